import { aggregateScores } from '../aggregate.js';
import type { SearchContext } from '../context.js';
import type { ResolvedParams } from '../options.js';
import { attemptScores, type PathNode } from '../tree.js';

/**
 * The value of each candidate step for selection. Without lookahead: its path's aggregated PRM score.
 * With lookahead k (Snell et al. 2024): a branch of each unfinished candidate is rolled out up to k more
 * steps at temperature 0, every rollout step is scored, and the candidate's value is the aggregate of
 * its path's scores followed by the rollout's (with `last`: the PRM's score at the rollout's end). The
 * rollout nodes are then released: only the candidate step itself is kept.
 */
export async function candidateValues(
  ctx: SearchContext,
  candidates: readonly PathNode[],
  p: ResolvedParams,
): Promise<(number | null)[]> {
  const rollout: number[][] = candidates.map(() => []);
  let owners = candidates.map((_, i) => i).filter((i) => !candidates[i]!.finished);
  if (p.lookahead > 0 && owners.length > 0) {
    const spec = { params: p, greedy: true, kind: 'rollout' as const };
    let tips = await ctx.expand(
      owners.map((i) => candidates[i]!),
      spec,
    );
    for (let step = 1; tips !== null; step++) {
      await ctx.score(tips);
      tips.forEach((t, k) => rollout[owners[k]!]!.push(t.prmScore!));
      const go = tips.map((t, k) => k).filter((k) => !tips![k]!.finished && step < p.lookahead);
      const goSet = new Set(go);
      await ctx.release(tips.filter((_, k) => !goSet.has(k)));
      if (go.length === 0) break;
      owners = go.map((k) => owners[k]!);
      const from = go.map((k) => tips![k]!);
      tips = await ctx.extend(from, spec);
      if (tips === null) await ctx.release(from);
    }
  }
  return candidates.map((c, i) => aggregateScores([...attemptScores(c), ...rollout[i]!], p.aggregation));
}
