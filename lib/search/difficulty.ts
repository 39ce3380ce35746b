/**
 * Question difficulty predicted by the model itself (Snell et al. 2024, "model-predicted difficulty"):
 * the mean PRM score of a few sampled solutions, binned into levels by thresholds fit on a calibration
 * set. Level 1 is the easiest (highest score), as in search-and-learn's compute_level.
 */

import { aggregateScores, type Aggregation } from './aggregate.js';

/**
 * Mean PRM score over the solutions that have scores, each solution's step scores aggregated as the
 * search ranks it; NaN when none has. Snell et al. average the final answer's score, which is their
 * `last` aggregation. Under `min` the final step says little: with the demo models the step after a
 * mistake scores high again, and the mean final score of two samples put questions of every level in
 * every bin (mean true level 3.2 / 3.0 / 3.4 / 2.8 / 2.6 per predicted bin on the calibration set,
 * against 2.3 / 2.0 / 2.8 / 3.8 / 4.2 with the minimum).
 */
export function difficultyScore(solutions: readonly { stepScores: readonly number[] }[], aggregation: Aggregation): number {
  const scores = solutions.map((s) => aggregateScores(s.stepScores, aggregation)).filter((x): x is number => x !== null);
  return scores.length === 0 ? Number.NaN : scores.reduce((a, b) => a + b, 0) / scores.length;
}

/** The q-quantile of ascending `sorted` with linear interpolation (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of an empty list');
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** levels − 1 ascending thresholds at the 1/levels, 2/levels, … quantiles of the scores. */
export function quantileThresholds(scores: readonly number[], levels: number): number[] {
  const sorted = [...scores].sort((a, b) => a - b);
  return Array.from({ length: levels - 1 }, (_, i) => quantile(sorted, (i + 1) / levels));
}

/**
 * The level of a score: below the first threshold is the hardest level (thresholds.length + 1), at or
 * above the last is level 1. A NaN score (nothing scored) counts as the hardest.
 */
export function levelOf(score: number, thresholds: readonly number[]): number {
  if (Number.isNaN(score)) return thresholds.length + 1;
  return thresholds.length + 1 - thresholds.filter((t) => score >= t).length;
}
