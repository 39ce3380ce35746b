import { describe, expect, it } from 'vitest';
import { search } from '../../lib/search/search.js';
import type { TreeNode } from '../../lib/search/types.js';
import { ScriptedBackend, treeScript, unitHash, type Script } from './scripted-backend.js';
import { childrenOf, scoredPath, sorted, stepPath } from './tree-helpers.js';

const Q = 'beam question';
const deepScript = () => treeScript({ depth: 4, answers: [{ answer: '1', p: 0.5 }, { answer: '2', p: 0.5 }] });
const reward = (path: readonly string[]) => deepScript().reward(Q, path);

/** Unfinished step nodes at a depth (the beams still active after that iteration). */
const activeAt = (tree: readonly TreeNode[], depth: number) =>
  tree.filter((n) => n.kind === 'step' && n.depth === depth && n.finish === 'stop' && !n.stepText.includes('\\boxed{'));

describe('beam search', () => {
  it('keeps exactly the n/M best active beams after every iteration', async () => {
    const backend = new ScriptedBackend(deepScript());
    const r = await search(Q, { backend, strategy: 'beam', n: 8, beamWidth: 2 });
    for (let depth = 1; depth <= 4; depth++) {
      const active = activeAt(r.tree, depth);
      const ranked = active.map((n) => ({ text: stepPath(r.tree, n.id).join('|'), v: reward(stepPath(r.tree, n.id)) }));
      ranked.sort((a, b) => b.v - a.v);
      const want = ranked.slice(0, 4).map((x) => x.text);
      const kept = active.filter((n) => childrenOf(r.tree, n.id).length > 0).map((n) => stepPath(r.tree, n.id).join('|'));
      expect(sorted(kept)).toEqual(sorted(want));
    }
    expect(backend.live.size).toBe(0);
  });

  it('expands each kept beam M ways, generating n steps per iteration', async () => {
    const backend = new ScriptedBackend(deepScript());
    const r = await search(Q, { backend, strategy: 'beam', n: 8, beamWidth: 2 });
    expect(backend.generateCalls.map((c) => c.nodes)).toEqual([8, 8, 8, 8, 8]);
    for (let depth = 1; depth <= 4; depth++) {
      for (const n of activeAt(r.tree, depth)) expect([0, 2]).toContain(childrenOf(r.tree, n.id).length);
    }
    expect(r.usage.generations).toBe(8);
  });

  it('answers by weighted vote over the finished beams', async () => {
    const backend = new ScriptedBackend(deepScript());
    const r = await search(Q, { backend, strategy: 'beam', n: 8, beamWidth: 2 });
    const finished = r.tree.filter((n) => n.kind === 'step' && n.finish === 'eos');
    expect(r.candidates.map((c) => c.text).sort()).toEqual(finished.map((n) => stepPath(r.tree, n.id).join('')).sort());
    const sums = new Map<string, number>();
    for (const c of r.candidates) sums.set(c.answer!, (sums.get(c.answer!) ?? 0) + c.stepScores.at(-1)!);
    expect(r.answer).toBe([...sums].reduce((a, b) => (b[1] > a[1] ? b : a))[0]);
  });

  it('refills to n by repeating the kept beams in turn when fewer than n/M remain', async () => {
    // At the first step most samples finish at once; the survivors are fewer than n/M = 4.
    const script: Script = {
      next: (view) =>
        view.attempt.length === 0
          ? [
              { text: 'go a\n\n', p: 0.15 },
              { text: 'go b\n\n', p: 0.15 },
              { text: 'done \\boxed{1}', p: 0.7, eos: true },
            ]
          : [{ text: `end${view.attempt.length} \\boxed{2}`, p: 1, eos: true }],
      reward: (q, s) => unitHash(s.join('|')),
    };
    const backend = new ScriptedBackend(script);
    const r = await search(Q, { backend, strategy: 'beam', n: 8, beamWidth: 2, seed: 3 });
    const survivors = activeAt(r.tree, 1);
    expect(survivors.length).toBeGreaterThan(0);
    expect(survivors.length).toBeLessThan(4);
    const counts = survivors.map((n) => childrenOf(r.tree, n.id).length);
    const k = survivors.length;
    expect(counts).toEqual(survivors.map((_, i) => Math.floor(8 / k) + (i < 8 % k ? 1 : 0)));
    expect(backend.generateCalls[1]!.nodes).toBe(8);
  });

  it('filterDuplicates keeps one beam per distinct text', async () => {
    const backend = new ScriptedBackend(deepScript());
    const r = await search(Q, { backend, strategy: 'beam', n: 8, beamWidth: 2, filterDuplicates: true });
    for (let depth = 1; depth <= 4; depth++) {
      const kept = activeAt(r.tree, depth).filter((n) => childrenOf(r.tree, n.id).length > 0);
      const texts = kept.map((n) => stepPath(r.tree, n.id).join('|'));
      expect(new Set(texts).size).toBe(texts.length);
    }
  });

  it('sortCompleted keeps the n best finished beams', async () => {
    const backend = new ScriptedBackend(deepScript());
    const r = await search(Q, { backend, strategy: 'beam', n: 4, beamWidth: 2, sortCompleted: true });
    const finished = r.tree.filter((n) => n.kind === 'step' && n.finish === 'eos').map((n) => n.prmScore!);
    const want = [...finished].sort((a, b) => b - a).slice(0, 4);
    expect(r.candidates.map((c) => c.aggregatedScore).sort((a, b) => b! - a!)).toEqual(want);
  });
});

describe('lookahead search', () => {
  it('ranks each candidate by the PRM score at the end of its k-step greedy rollout', async () => {
    const backend = new ScriptedBackend(deepScript());
    const r = await search(Q, { backend, strategy: 'lookahead', n: 8, beamWidth: 2, lookahead: 2 });
    for (let depth = 1; depth <= 3; depth++) {
      const active = activeAt(r.tree, depth);
      const value = (n: TreeNode) => {
        let tip = n;
        for (let c = childrenOf(r.tree, tip.id).find((x) => x.kind === 'rollout'); c; c = childrenOf(r.tree, c.id)[0]) tip = c;
        expect(tip.kind).toBe('rollout');
        return reward(scoredPath(r.tree, tip.id));
      };
      const ranked = active.map((n) => ({ id: n.id, v: value(n) })).sort((a, b) => b.v - a.v || a.id - b.id);
      const want = ranked.slice(0, 4).map((x) => x.id);
      const kept = active.filter((n) => childrenOf(r.tree, n.id).some((c) => c.kind === 'step')).map((n) => n.id);
      expect(sorted(kept.map(String))).toEqual(sorted(want.map(String)));
    }
  });

  it('rolls out at temperature 0 and keeps only the first step', async () => {
    const backend = new ScriptedBackend(deepScript());
    const r = await search(Q, { backend, strategy: 'lookahead', n: 8, beamWidth: 2, lookahead: 2 });
    const rollouts = r.tree.filter((n) => n.kind === 'rollout');
    expect(rollouts.length).toBeGreaterThan(0);
    // Greedy: a rollout always takes the most likely option ("…a").
    expect(rollouts.every((n) => n.stepText.includes('a\n\n') || n.stepText.includes('\\boxed{'))).toBe(true);
    for (const n of r.tree) if (n.kind === 'step' && n.parent !== null) expect(r.tree[n.parent]!.kind).not.toBe('rollout');
    // Every finished beam's path consists of kept steps only: no rollout node among its ancestors.
    for (const n of r.tree.filter((x) => x.kind === 'step' && x.finish === 'eos')) {
      for (let a = r.tree[n.parent!]!; a.parent !== null; a = r.tree[a.parent]!) expect(a.kind).toBe('step');
    }
    expect(backend.live.size).toBe(0);
  });

  it('pays n·(k+1) generations: n candidates and k rollout steps for each', async () => {
    const backend = new ScriptedBackend(deepScript());
    const r = await search(Q, { backend, strategy: 'lookahead', n: 8, beamWidth: 2, lookahead: 2 });
    expect(r.usage.generations).toBe(8 * 3);
    // First iteration: nothing can finish within depth 3, so exactly n + n·k steps are generated.
    const firstCandidates = r.tree.filter((n) => n.kind === 'step' && n.depth === 1);
    const anchor = (n: TreeNode): TreeNode => (n.kind === 'rollout' ? anchor(r.tree[n.parent!]!) : n);
    const firstRollouts = r.tree.filter((n) => n.kind === 'rollout' && anchor(n).depth === 1);
    expect(firstCandidates.length + firstRollouts.length).toBe(8 * 3);
  });
});
