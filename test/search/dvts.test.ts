import { describe, expect, it } from 'vitest';
import { search } from '../../lib/search/search.js';
import { ScriptedBackend, treeScript } from './scripted-backend.js';
import { childrenOf, stepPath } from './tree-helpers.js';

const Q = 'dvts question';
const script = () => treeScript({ depth: 3, answers: [{ answer: '4', p: 0.5 }, { answer: '5', p: 0.5 }] });
const run = async () => {
  const backend = new ScriptedBackend(script());
  const r = await search(Q, { backend, strategy: 'dvts', n: 12, beamWidth: 3 });
  return { backend, r };
};

describe('DVTS', () => {
  it('subtrees never share nodes', async () => {
    const { r, backend } = await run();
    const steps = r.tree.filter((n) => n.kind !== 'root');
    expect(new Set(steps.map((n) => n.group))).toEqual(new Set([0, 1, 2, 3]));
    for (const n of steps) {
      const parent = r.tree[n.parent!]!;
      if (parent.kind !== 'root') expect(parent.group).toBe(n.group);
    }
    expect(backend.live.size).toBe(0);
  });

  it('stores every subtree: M candidates per step for each of the n/M subtrees', async () => {
    const { r } = await run();
    for (let g = 0; g < 4; g++) {
      const nodes = r.tree.filter((n) => n.group === g);
      // depth 3 reasoning steps + the final step, M = 3 candidates each.
      expect(nodes).toHaveLength(4 * 3);
      for (let depth = 1; depth <= 4; depth++) expect(nodes.filter((n) => n.depth === depth)).toHaveLength(3);
    }
  });

  it('each subtree greedily continues from its best-scored candidate', async () => {
    const { r } = await run();
    const reward = (id: number) => script().reward(Q, stepPath(r.tree, id));
    for (let g = 0; g < 4; g++) {
      for (let depth = 1; depth <= 3; depth++) {
        const sibs = r.tree.filter((n) => n.group === g && n.depth === depth);
        let best = sibs[0]!;
        for (const s of sibs) if (reward(s.id) > reward(best.id)) best = s;
        const expanded = sibs.filter((s) => childrenOf(r.tree, s.id).length > 0);
        expect(expanded.map((s) => s.id)).toEqual([best.id]);
      }
    }
  });

  it('answers from the last M siblings of every subtree, n candidates in all', async () => {
    const { r } = await run();
    expect(r.candidates).toHaveLength(12);
    const finals = r.tree.filter((n) => n.depth === 4).map((n) => stepPath(r.tree, n.id).join(''));
    expect(r.candidates.map((c) => c.text).sort()).toEqual(finals.sort());
    expect(r.usage.generations).toBe(12);
  });
});
