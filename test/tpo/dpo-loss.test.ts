// The DPO loss of tools/train/dpo.py against values worked out by hand (Rafailov et al. 2023, eq. 7):
//   L = -log σ(β [(π_c − ref_c) − (π_r − ref_r)]) = log(1 + exp(−β [(π_c − ref_c) − (π_r − ref_r)]))
// and its per-sequence log-probabilities on a stub model with known token probabilities.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const PY = '/usr/bin/python3';
const SCRIPT = path.resolve(import.meta.dirname, '../../tools/train/dpo.py');
const hasTorch = existsSync(PY) && spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

function run(batch: object): { losses: number[]; loss: number; total: number; chosen_rewards: number[]; rejected_rewards: number[]; stub_logps: number[] } {
  const r = spawnSync(PY, [SCRIPT, '--check-loss'], { input: JSON.stringify(batch), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dpo.py --check-loss failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe.skipIf(!hasTorch)('the DPO loss (tools/train/dpo.py, torch)', () => {
  it('matches the hand-computed value on a tiny batch', () => {
    const out = run({ beta: 0.5, pi_chosen: [-3, -2], pi_rejected: [-5, -1], ref_chosen: [-4, -2], ref_rejected: [-4, -2] });
    // Pair 1: β[(−3 + 4) − (−5 + 4)] = 0.5 · 2 = 1   → log(1 + e^−1)   = 0.31326168751822286
    // Pair 2: β[(−2 + 2) − (−1 + 2)] = 0.5 · −1 = −0.5 → log(1 + e^0.5) = 0.97407698418010669
    expect(out.losses[0]).toBeCloseTo(0.31326168751822286, 12);
    expect(out.losses[1]).toBeCloseTo(0.97407698418010669, 12);
    expect(out.loss).toBeCloseTo((0.31326168751822286 + 0.97407698418010669) / 2, 12);
    // Implicit rewards β(π − ref).
    expect(out.chosen_rewards).toEqual([0.5, 0]);
    expect(out.rejected_rewards).toEqual([-0.5, 0.5]);
  });

  it('adds the chosen side\'s per-token NLL at --nll-weight (IRPO)', () => {
    const out = run({ beta: 0.5, pi_chosen: [-3, -2], pi_rejected: [-5, -1], ref_chosen: [-4, -2], ref_rejected: [-4, -2], nll_weight: 1, chosen_lengths: [3, 4] });
    // NLL per token: 3 / 3 = 1 and 2 / 4 = 0.5, mean 0.75, added to the mean DPO loss.
    expect(out.total).toBeCloseTo((0.31326168751822286 + 0.97407698418010669) / 2 + 0.75, 12);
    const plain = run({ beta: 0.5, pi_chosen: [-3, -2], pi_rejected: [-5, -1], ref_chosen: [-4, -2], ref_rejected: [-4, -2] });
    expect(plain.total).toBe(plain.loss);
  });

  it('is log 2 when the policy equals the reference', () => {
    const out = run({ beta: 0.1, pi_chosen: [-7.5], pi_rejected: [-2], ref_chosen: [-7.5], ref_rejected: [-2] });
    expect(out.loss).toBeCloseTo(Math.LN2, 12);
  });

  it('sums the log-probabilities of the completion tokens only', () => {
    // The stub gives token 0 probability 1/2 and tokens 1..3 probability 1/6 at every position.
    // Row [1, 0, 0, 2] from index 2: log(1/2) + log(1/6); row [0, 3, 1] (padded with 3) from index 1: 2 · log(1/6).
    const out = run({ beta: 1, pi_chosen: [0], pi_rejected: [0], ref_chosen: [0], ref_rejected: [0], stub_rows: [[1, 0, 0, 2], [0, 3, 1]], stub_firsts: [2, 1] });
    expect(out.stub_logps[0]).toBeCloseTo(Math.log(1 / 2) + Math.log(1 / 6), 5);
    expect(out.stub_logps[1]).toBeCloseTo(2 * Math.log(1 / 6), 5);
  });
});
