import { describe, expect, it } from 'vitest';
import { search } from '../../lib/search/search.js';
import { puct } from '../../lib/search/strategies/mcts.js';
import type { TreeNode } from '../../lib/search/types.js';
import { ScriptedBackend, treeScript } from './scripted-backend.js';
import { childrenOf, stepPath } from './tree-helpers.js';

const Q = 'mcts question';
const script = treeScript({ depth: 2, answers: [{ answer: '3', p: 0.7 }, { answer: '4', p: 0.3 }] });

describe('MCTS', () => {
  it('computes PUCT as OpenR does (hand-computed)', () => {
    // c = (ln((4 + 19652 + 1) / 19652) + 1.25) × √4 / (1 + 1) = 1.2502035…; 0.5 c + 0.3 (mean value)
    const parent = { visits: 4, valueSum: 2, initial: 0, prior: 1, children: null };
    const child = { visits: 1, valueSum: 0.3, initial: 0.9, prior: 0.5, children: null };
    expect(puct(parent, child, 19652, 1.25)).toBeCloseTo(0.5 * (Math.log(19657 / 19652) + 1.25) + 0.3, 12);
    // Unvisited parent: no exploration, the child's PRM score decides.
    expect(puct({ ...parent, visits: 0 }, { ...child, visits: 0 }, 19652, 1.25)).toBe(0.9);
  });

  it('selects children in the order PUCT dictates, with PRM step scores as initial values', async () => {
    const backend = new ScriptedBackend(script);
    const n = 7;
    const r = await search(Q, { backend, strategy: 'mcts', n, expansionWidth: 3 });
    const tree = r.tree;

    // Independent replay over the tree the search built.
    const kids = (id: number) => {
      const seen = new Set<string>();
      return childrenOf(tree, id).filter((c) => !seen.has(c.stepText) && (seen.add(c.stepText), true));
    };
    const prior = (c: TreeNode, sibs: TreeNode[]) => {
      const x = (s: TreeNode) => {
        const path = stepPath(tree, s.parent!);
        const opts = script.next({ question: Q, segments: path.map((t) => ({ kind: 'step', text: t })), attempt: path });
        const total = opts.reduce((a, o) => a + o.p, 0);
        const p = opts.find((o) => o.text === s.stepText)!.p / total;
        return Math.exp(Math.log(p) / s.tokens);
      };
      return x(c) / sibs.reduce((a, s) => a + x(s), 0);
    };
    const N = new Map<number, number>();
    const W = new Map<number, number>();
    const value = (id: number) => ((N.get(id) ?? 0) === 0 ? tree[id]!.prmScore! : W.get(id)! / N.get(id)!);
    const want: number[][] = [];
    for (let sim = 0; sim < n; sim++) {
      const path: number[] = [];
      let node = 0;
      do {
        const sibs = kids(node);
        const np = N.get(node) ?? 0;
        let best = -1;
        let bestScore = -Infinity;
        for (const c of sibs) {
          const explore = (Math.log((np + 19652 + 1) / 19652) + 1.25) * (Math.sqrt(np) / ((N.get(c.id) ?? 0) + 1));
          const s = explore * prior(c, sibs) + value(c.id);
          if (s > bestScore) [best, bestScore] = [c.id, s];
        }
        node = best;
        path.push(node);
      } while (tree[node]!.finish === 'stop');
      const leaf = value(node);
      for (const id of [0, ...path]) {
        N.set(id, (N.get(id) ?? 0) + 1);
        W.set(id, (W.get(id) ?? 0) + leaf);
      }
      want.push(path);
    }
    expect(r.details).toEqual({ kind: 'mcts', selections: want });
    for (const [id, visits] of N) expect(tree[id]!.visits).toBe(visits);
    expect(tree[0]!.visits).toBe(n);
    expect(backend.live.size).toBe(0);
  });

  it('takes the best-scored root child first', async () => {
    const backend = new ScriptedBackend(script);
    const r = await search(Q, { backend, strategy: 'mcts', n: 1, expansionWidth: 3 });
    const first = r.tree.filter((x) => x.parent === 0);
    const best = first.reduce((a, b) => (b.prmScore! > a.prmScore! ? b : a));
    expect(r.details?.kind === 'mcts' && r.details.selections[0]![0]).toBe(best.id);
  });

  it('charges one generation per simulation and answers from the terminal nodes reached', async () => {
    const backend = new ScriptedBackend(script);
    const r = await search(Q, { backend, strategy: 'mcts', n: 5, expansionWidth: 2 });
    expect(r.usage.generations).toBe(5);
    const reached = new Set(r.details?.kind === 'mcts' ? r.details.selections.map((p) => p.at(-1)!) : []);
    expect(r.candidates.map((c) => c.text).sort()).toEqual([...reached].map((id) => stepPath(r.tree, id).join('')).sort());
  });
});
