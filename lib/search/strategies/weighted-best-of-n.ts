import { independentSamples } from './independent-samples.js';

/** Weighted best-of-N: n independent solutions, answers voted with their aggregated PRM scores as weights. */
export const weightedBestOfN = independentSamples('weighted-best-of-n');
