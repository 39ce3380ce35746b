import type { SearchContext } from '../context.js';
import type { ResolvedParams } from '../options.js';
import type { PathNode } from '../tree.js';

export interface ChainSpec {
  params: ResolvedParams;
  /** Score every step with the PRM. */
  score: boolean;
  /** Branch the heads (keeping them) for the first step instead of extending them in place. */
  branch: boolean;
  /** Release a chain's backend node as soon as it ends (false when the caller continues from it). */
  releaseFinished: boolean;
  /** Group of chain i (default: the head's group). */
  group?: (i: number) => number | null;
}

/**
 * Independent solutions, one per head, generated step by step and batched across chains: every chain
 * extends in place until it ends; the last allowed step is generated to the end of the solution.
 * Returns each chain's last node (its head when the token cap stopped it before any step).
 */
export async function runChains(ctx: SearchContext, heads: readonly PathNode[], spec: ChainSpec): Promise<PathNode[]> {
  const last = [...heads];
  let active = heads.map((_, i) => i);
  for (let iter = 0; active.length > 0; iter++) {
    const toEnd = iter === spec.params.maxIterations - 1;
    const nodes = active.map((i) => last[i]!);
    const stepSpec = {
      params: spec.params,
      toEnd,
      group: spec.group ? (k: number) => spec.group!(active[k]!) : undefined,
    };
    const next =
      iter === 0 && spec.branch ? await ctx.expand(nodes, stepSpec) : await ctx.extend(nodes, stepSpec);
    if (next === null) break;
    if (spec.score) await ctx.score(next);
    next.forEach((node, k) => (last[active[k]!] = node));
    const ended = next.filter((n) => n.finished);
    if (spec.releaseFinished) await ctx.release(ended);
    active = active.filter((i) => !last[i]!.finished);
  }
  return last;
}
