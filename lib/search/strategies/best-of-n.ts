import { independentSamples } from './independent-samples.js';

/** Best-of-N: n independent solutions, the one with the best aggregated PRM score wins. */
export const bestOfN = independentSamples('best-of-n');
