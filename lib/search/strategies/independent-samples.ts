import type { Strategy } from '../strategy.js';
import { runChains } from './chains.js';

/**
 * Parallel sampling: n independent solutions from the root. The three strategies built on it
 * (majority.ts, best-of-n.ts, weighted-best-of-n.ts) differ only in how the answer is chosen
 * (self-consistency, best PRM score, PRM-weighted vote).
 */
export function independentSamples(name: 'majority' | 'best-of-n' | 'weighted-best-of-n'): Strategy {
  const usesPrm = name !== 'majority';
  return {
    name,
    needsPrm: () => usesPrm,
    cost: (p) => p.n,
    async run(ctx, root, p) {
      ctx.charge(p.n);
      const heads = Array.from({ length: p.n }, () => root);
      const last = await runChains(ctx, heads, {
        params: p,
        score: usesPrm,
        branch: true,
        releaseFinished: true,
        group: (i) => i,
      });
      return {
        candidates: last.filter((n) => n.kind === 'step'),
        selection: name === 'majority' ? 'majority' : name === 'best-of-n' ? 'naive' : 'weighted',
      };
    },
  };
}
