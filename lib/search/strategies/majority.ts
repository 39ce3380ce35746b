import { independentSamples } from './independent-samples.js';

/** Self-consistency: n independent solutions, the most frequent answer wins; no PRM. */
export const majority = independentSamples('majority');
