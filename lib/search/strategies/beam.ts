import { aggregateScores } from '../aggregate.js';
import type { Strategy } from '../strategy.js';
import { attemptScores, pathText, type PathNode } from '../tree.js';
import { candidateValues } from './rollout.js';

/** Higher first; a missing value ranks last. */
function byValueDesc(values: readonly (number | null)[]) {
  return (a: number, b: number) => (values[b] ?? -Infinity) - (values[a] ?? -Infinity) || a - b;
}

/**
 * Beam search as in search-and-learn: every iteration generates one step for n beams (the kept beams
 * repeated in turn until there are n: exactly M copies each while n/M are kept, more each when fewer
 * remain), scores them, sets finished beams aside, and keeps the n/M best of the rest (ties: earlier
 * beam first). The last iteration generates to the end. The answer is the weighted vote over finished
 * beams (the first n, or the n best with sortCompleted). With lookahead k, candidates are ranked by
 * rollouts (rollout.ts) and a run costs n·(k+1) generations.
 *
 * Differences from search-and-learn, on purpose: a step containing a final answer (task.isFinal) also
 * finishes a beam; finished beams are not duplicated up to n when fewer finished (every candidate is a
 * distinct path of the tree); when the token cap stops the search, the unfinished kept beams are
 * candidates too.
 */
export function beamSearch(name: 'beam' | 'lookahead'): Strategy {
  return {
    name,
    needsPrm: () => true,
    cost: (p) => p.n * (p.lookahead + 1),
    async run(ctx, root, p) {
      ctx.charge(p.n * (p.lookahead + 1));
      const keep = p.n / p.beamWidth;
      let kept: PathNode[] = [root];
      const completed: PathNode[] = [];
      for (let iter = 0; iter < p.maxIterations && kept.length > 0; iter++) {
        const toEnd = iter === p.maxIterations - 1;
        const parents = Array.from({ length: p.n }, (_, i) => kept[i % kept.length]!);
        const children = await ctx.expand(parents, { params: p, toEnd });
        if (children === null) break;
        // The children hold the kept beams' KV now; the search never branches the root again here.
        await ctx.release(kept.filter((k) => k !== root));
        kept = [];
        await ctx.score(children);
        const values = await candidateValues(ctx, children, toEnd ? { ...p, lookahead: 0 } : p);
        const done = children.filter((c) => c.finished);
        completed.push(...done);
        await ctx.release(done);
        let active = children.map((_, i) => i).filter((i) => !children[i]!.finished);
        if (p.filterDuplicates) {
          const seen = new Set<string>();
          active = active.filter((i) => {
            const text = pathText(children[i]!);
            if (seen.has(text)) return false;
            seen.add(text);
            return true;
          });
        }
        const top = new Set([...active].sort(byValueDesc(values)).slice(0, keep));
        kept = active.filter((i) => top.has(i)).map((i) => children[i]!);
        await ctx.release(children.filter((c, i) => !c.finished && !top.has(i)));
        if (ctx.exhausted) break;
      }
      const score = (n: PathNode) => aggregateScores(attemptScores(n), p.aggregation);
      const ordered = p.sortCompleted
        ? completed
            .map((n, i) => ({ n, s: score(n), i }))
            .sort((a, b) => (b.s ?? -Infinity) - (a.s ?? -Infinity) || a.i - b.i)
            .map((x) => x.n)
        : completed;
      const candidates = ordered.slice(0, p.n);
      if (ctx.exhausted) candidates.push(...kept.filter((k) => k !== root));
      return { candidates, selection: 'weighted' };
    },
  };
}

/** Beam search without lookahead by default (`lookahead` may still set k). */
export const beam = beamSearch('beam');
