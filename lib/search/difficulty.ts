/**
 * Question difficulty predicted by the model itself (Snell et al. 2024, "model-predicted difficulty"):
 * the mean PRM score of the final step over a few sampled solutions, binned into levels by thresholds
 * fit on a calibration set. Level 1 is the easiest (highest score), as in search-and-learn's
 * compute_level.
 */

/** Mean final-step PRM score over the solutions that have scores; NaN when none has. */
export function difficultyScore(solutions: readonly { stepScores: readonly number[] }[]): number {
  const finals = solutions.filter((s) => s.stepScores.length > 0).map((s) => s.stepScores[s.stepScores.length - 1]!);
  return finals.length === 0 ? Number.NaN : finals.reduce((a, b) => a + b, 0) / finals.length;
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
