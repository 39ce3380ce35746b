import { aggregateScores } from '../aggregate.js';
import type { Strategy } from '../strategy.js';
import { attemptScores, type PathNode } from '../tree.js';

/**
 * Diverse verifier tree search (search-and-learn): n/M independent subtrees; each iteration every live
 * subtree expands its current node M ways, scores the candidates and greedily moves to the best (first on
 * ties). A subtree ends when its chosen step ends the solution (EOS, length, empty, final answer); the
 * last iteration generates to the end. The candidates are, per subtree, the M last siblings (its chosen
 * path with each of the last step's alternatives), n in all; the answer is the weighted vote.
 *
 * Unlike search-and-learn, every subtree is stored: all nodes stay in the tree (group = subtree index),
 * only their backend nodes are released once they can no longer be chosen.
 */
export const dvts: Strategy = {
  name: 'dvts',
  needsPrm: () => true,
  cost: (p) => p.n,
  async run(ctx, root, p) {
    ctx.charge(p.n);
    const m = p.beamWidth;
    const subtrees = p.n / m;
    const current: PathNode[] = Array.from({ length: subtrees }, () => root);
    const lastSiblings: PathNode[][] = Array.from({ length: subtrees }, () => []);
    let live = current.map((_, s) => s);
    for (let iter = 0; iter < p.maxIterations && live.length > 0; iter++) {
      const toEnd = iter === p.maxIterations - 1;
      const parents = live.flatMap((s) => Array.from({ length: m }, () => current[s]!));
      const children = await ctx.expand(parents, {
        params: p,
        toEnd,
        group: (i) => live[Math.floor(i / m)]!,
      });
      if (children === null) break;
      await ctx.release(live.map((s) => current[s]!).filter((n) => n !== root));
      await ctx.score(children);
      const drop: PathNode[] = [];
      live.forEach((s, k) => {
        const sibs = children.slice(k * m, (k + 1) * m);
        const values = sibs.map((c) => aggregateScores(attemptScores(c), p.aggregation) ?? -Infinity);
        let best = 0;
        values.forEach((v, i) => {
          if (v > values[best]!) best = i;
        });
        lastSiblings[s] = sibs;
        current[s] = sibs[best]!;
        drop.push(...sibs.filter((_, i) => i !== best || sibs[i]!.finished));
      });
      await ctx.release(drop);
      live = live.filter((s) => !current[s]!.finished);
      if (ctx.exhausted) break;
    }
    return { candidates: lastSiblings.flat(), selection: 'weighted' };
  },
};
