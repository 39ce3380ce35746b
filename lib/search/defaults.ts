/**
 * Every default of the search in one place (search-and-learn's, where it has one): no numbers buried in
 * strategy loops. Exported from the package root as `SEARCH_DEFAULTS`; the CLI commands run with
 * `CLI_SEARCH_DEFAULTS` instead (lib/eval/defaults.ts: aggregation 'min', 64-token steps, 10 iterations).
 */
export const DEFAULTS = {
  beamWidth: 4,
  aggregation: 'last',
  temperature: 0.8,
  topP: 1,
  topK: 0,
  maxIterations: 40,
  maxStepTokens: 2048,
  maxSolutionTokens: Number.POSITIVE_INFINITY,
  /** Beam search without lookahead; the lookahead strategy's own default is lookaheadSteps. */
  lookahead: 0,
  lookaheadSteps: 1,
  filterDuplicates: false,
  sortCompleted: false,
  /** OpenR's PUCT constants (AlphaZero's). */
  expansionWidth: 4,
  cBase: 19652,
  cInit: 1.25,
  /** Snell et al. keep up to four previous attempts in the reviser's context. */
  maxRevisionsPerChain: 4,
  revisionSelect: 'weighted',
  seed: 42,
} as const;
