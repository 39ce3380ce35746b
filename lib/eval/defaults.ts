import type { Aggregation } from '../search/aggregate.js';

/**
 * Search settings the eval, calibrate and demo commands share, so a calibration table is fit under the
 * same sampling as the evaluations that use it. The arithmetic task's steps are one short equation and
 * its solutions have at most eight steps; the search's own defaults (2048-token steps, 40 iterations)
 * are sized for MATH and would let a runaway step overflow a small model's context.
 */
export const EVAL_DEFAULTS = {
  temperature: 0.8,
  /** How a path's step scores make its value. */
  aggregation: 'last' as Aggregation,
  maxStepTokens: 64,
  maxIterations: 10,
  /** Searches in flight at once (the engine batches across them). */
  concurrency: 8,
  seed: 0,
  /** compute-optimal's difficulty estimate: best-of-n samples charged to its budget. */
  difficultySamples: 2,
  /** Difficulty bins of a calibration table (Snell et al. use five). */
  calibrationLevels: 5,
  /** M of beam search and DVTS in calibration candidates. */
  calibrationBeamWidth: 4,
} as const;
