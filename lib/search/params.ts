import { OptionError } from '../errors.js';
import type { Aggregation } from './aggregate.js';

// The strategies' names and parameters: the bottom of the search layer (options, calibration tables and
// results all speak of them).

export const STRATEGY_NAMES = [
  'majority',
  'best-of-n',
  'weighted-best-of-n',
  'beam',
  'lookahead',
  'dvts',
  'mcts',
  'revisions',
  'compute-optimal',
] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** How the revisions strategy picks its final answer among all attempts. */
export type RevisionSelect = 'weighted' | 'best' | 'majority';

/**
 * Strategy parameters: everything a calibration table may set for a strategy. Each strategy reads the
 * fields it knows; the others are ignored.
 */
export interface StrategyParams {
  /**
   * The budget in generations: samples for majority/best-of-n, beams for beam/lookahead/DVTS,
   * simulations for MCTS, attempts for revisions, the total for compute-optimal (see budget.ts).
   */
  n: number;
  /**
   * M: beam search keeps n/M beams and expands each M ways; DVTS runs n/M subtrees of M candidates.
   * @default 4
   */
  beamWidth?: number;
  /**
   * How a path's step scores become one score.
   * @default 'last' (Snell et al., search-and-learn); the CLI commands use 'min' (CLI_SEARCH_DEFAULTS)
   */
  aggregation?: Aggregation;
  /** @default 0.8 (the CLI commands too) */
  temperature?: number;
  /** @default 1 */
  topP?: number;
  /** @default 0 (disabled) */
  topK?: number;
  /**
   * Most steps of one solution (one attempt for revisions); the last one is generated to the end.
   * @default 40 (sized for MATH); the CLI commands use 10 (CLI_SEARCH_DEFAULTS, sized for the demo task)
   */
  maxIterations?: number;
  /**
   * Most tokens of one step.
   * @default 2048 (sized for MATH); the CLI commands use 64 (CLI_SEARCH_DEFAULTS, sized for the demo task)
   */
  maxStepTokens?: number;
  /**
   * Most policy tokens of one solution; a path that reaches it ends.
   * @default Infinity (only maxIterations × maxStepTokens bounds a solution)
   */
  maxSolutionTokens?: number;
  /**
   * k rollout steps at temperature 0 per candidate step, scored at the rollout's end (beam and
   * lookahead; lookahead needs k ≥ 1).
   * @default 0 for beam, 1 for lookahead
   */
  lookahead?: number;
  /**
   * Beam search: drop active beams whose text duplicates an earlier one before selecting.
   * @default false
   */
  filterDuplicates?: boolean;
  /**
   * Beam search: keep the n best finished beams (by aggregated score) instead of the first n.
   * @default false
   */
  sortCompleted?: boolean;
  /**
   * MCTS: children sampled when a node is expanded.
   * @default 4
   */
  expansionWidth?: number;
  /** MCTS PUCT c_base. @default 19652 */
  cBase?: number;
  /** MCTS PUCT c_init. @default 1.25 */
  cInit?: number;
  /**
   * Revisions: attempts per chain (1 first attempt + revisions); n / revisionsPerChain chains run in
   * parallel.
   * @default the largest divisor of n that is at most 4
   */
  revisionsPerChain?: number;
  /** @default 'weighted' */
  revisionSelect?: RevisionSelect;
}

export function isStrategyName(name: unknown): name is StrategyName {
  return typeof name === 'string' && (STRATEGY_NAMES as readonly string[]).includes(name);
}

export function checkStrategyName(name: unknown): StrategyName {
  if (!isStrategyName(name)) {
    throw new OptionError(`Unknown strategy \`${String(name)}\`; known strategies: ${STRATEGY_NAMES.join(', ')}`);
  }
  return name;
}
