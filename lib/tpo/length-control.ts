/**
 * The paper's length control (Wu et al. 2024, section 2.2): judges favour long responses, so the score
 * a pair is built from is the judge's score minus ρ times the response's length, both normalised
 * within the K samples of one prompt:
 *
 *   S'_k = z(S)_k − ρ · z(L)_k,   z(x)_k = (x_k − mean(x)) / std(x)   (population std; z = 0 when std = 0)
 *
 * so ρ trades one standard deviation of score against one of length whatever the judge's scale.
 */
import { OptionError } from '../errors.js';

/** z-scores of `values` (all 0 when they are all equal). */
export function zScores(values: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) return [];
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, v) => a + (v - mean) * (v - mean), 0) / n;
  const std = Math.sqrt(variance);
  // Equal values (or a spread lost in rounding) carry no ranking information.
  if (!(std > 1e-12 * Math.max(1, Math.abs(mean)))) return values.map(() => 0);
  return values.map((v) => (v - mean) / std);
}

/** Length-controlled scores of one prompt's samples; `rho` 0 returns the scores unchanged. */
export function lengthControlled(scores: readonly number[], lengths: readonly number[], rho: number): number[] {
  if (scores.length !== lengths.length) {
    throw new OptionError(`lengthControlled needs one length per score, got ${scores.length} scores and ${lengths.length} lengths`);
  }
  if (!Number.isFinite(rho) || rho < 0) throw new OptionError(`Expected \`lengthPenalty\` to be a finite number ≥ 0, got ${rho}`);
  if (rho === 0) return [...scores];
  const zs = zScores(scores);
  const zl = zScores(lengths);
  return zs.map((s, k) => s - rho * zl[k]!);
}
