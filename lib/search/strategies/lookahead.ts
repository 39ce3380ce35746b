import { beamSearch } from './beam.js';

/**
 * Lookahead search (Snell et al. 2024): beam search whose candidate steps are ranked by k greedy rollout
 * steps (rollout.ts); k defaults to 1 and must be at least 1.
 */
export const lookahead = beamSearch('lookahead');
