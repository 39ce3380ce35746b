// Issue 30, "NaN rewards from a PRM flow into search results as NaN scores": a reward that is not a
// finite number is a PrmRewardError naming the PRM and the step, where it is computed (rewardOf) and
// where any backend's rewards enter a search (SearchContext.score).
import { describe, expect, it } from 'vitest';
import { PrmRewardError } from '../../lib/errors.js';
import { PrmRewardError as PrmRewardErrorFromPrm } from '../../lib/models/prm/errors.js';
import { rewardOf } from '../../lib/models/prm/format.js';
import { search } from '../../lib/search/search.js';
import { ScriptedBackend, treeScript, type Script } from './scripted-backend.js';

const Q = 'nan question';

/** treeScript, except that the reward of every path through step `s1b` is `bad`. */
function poisoned(bad: number): Script {
  const base = treeScript({ depth: 2, answers: [{ answer: '3', p: 0.6 }, { answer: '4', p: 0.4 }] });
  return { ...base, reward: (q, scored) => (scored.includes('s1b\n\n') ? bad : base.reward(q, scored)) };
}

describe('rewardOf', () => {
  const site = { prm: 'PRM /models/x', step: 'node 4, step 2' };

  it('throws PrmRewardError naming the PRM and the step for a NaN in a softmax row', () => {
    const rows = Float32Array.of(0.5, Number.NaN);
    expect(() => rewardOf({ kind: 'softmax', pick: 0 }, rows, 0, 2, site)).toThrow(PrmRewardError);
    expect(() => rewardOf({ kind: 'softmax', pick: 0 }, rows, 0, 2, site)).toThrow(
      /^PRM \/models\/x: the reward of node 4, step 2 is NaN, not a finite number/,
    );
  });

  it('throws for +Infinity at the picked entry (∞ − ∞ in the softmax)', () => {
    expect(() => rewardOf({ kind: 'softmax', pick: 1 }, Float32Array.of(0, Number.POSITIVE_INFINITY), 0, 2, site)).toThrow(PrmRewardError);
  });

  it('throws for a NaN value-head output', () => {
    expect(() => rewardOf({ kind: 'sigmoid' }, Float32Array.of(Number.NaN), 0, 1, site)).toThrow(PrmRewardError);
  });

  it('still gives 0 and 1 for infinite value-head outputs, which are limits, not errors', () => {
    expect(rewardOf({ kind: 'sigmoid' }, Float32Array.of(Number.NEGATIVE_INFINITY), 0, 1, site)).toBe(0);
    expect(rewardOf({ kind: 'sigmoid' }, Float32Array.of(Number.POSITIVE_INFINITY), 0, 1, site)).toBe(1);
  });

  it('is the class lib/models/prm/errors.ts exports', () => {
    expect(PrmRewardErrorFromPrm).toBe(PrmRewardError);
  });
});

describe('a backend whose PRM answers NaN', () => {
  for (const strategy of ['beam', 'best-of-n', 'dvts', 'mcts', 'lookahead'] as const) {
    it(`fails a ${strategy} search with PrmRewardError instead of a NaN score`, async () => {
      const backend = new ScriptedBackend(poisoned(Number.NaN), { prmId: 'nan-prm' });
      const err = await search(Q, { backend, strategy, n: 12, beamWidth: 3 } as never).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PrmRewardError);
      const e = err as PrmRewardError;
      expect(e.prm).toBe('nan-prm');
      expect(e.step).toContain('s1b');
      expect(Number.isNaN(e.reward)).toBe(true);
    });
  }

  it('refuses an infinite reward as well', async () => {
    const backend = new ScriptedBackend(poisoned(Number.POSITIVE_INFINITY));
    await expect(search(Q, { backend, strategy: 'beam', n: 6, beamWidth: 3 })).rejects.toThrow(/is Infinity, not a finite number/);
  });

  it('leaves every backend node released after the failure', async () => {
    const backend = new ScriptedBackend(poisoned(Number.NaN));
    await expect(search(Q, { backend, strategy: 'beam', n: 6, beamWidth: 3 })).rejects.toBeInstanceOf(PrmRewardError);
    expect(backend.live.size).toBe(0);
  });
});
