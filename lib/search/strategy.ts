import type { BackendModelInfo } from '../backends/types.js';
import type { Aggregation } from './aggregate.js';
import type { SearchContext } from './context.js';
import type { ResolvedOptions, ResolvedParams } from './options.js';
import type { PathNode } from './tree.js';
import type { StrategyDetails, StrategyName } from './types.js';

/** How the final answer is chosen among the candidates. */
export type Selection = 'majority' | 'weighted' | 'naive';

export interface StrategyOutcome {
  /** The last node of each candidate solution. */
  candidates: PathNode[];
  selection: Selection;
  /** How candidates' step scores are aggregated (a nested strategy may use its own); default the search's. */
  aggregation?: Aggregation;
  details?: StrategyDetails;
}

/** One search strategy. Strategies are registered by name (registry.ts). */
export interface Strategy {
  readonly name: StrategyName;
  /** Whether it needs PRM scores with these parameters. */
  needsPrm(params: ResolvedParams): boolean;
  /** Checks beyond resolveParams (throws OptionError); runs before any backend call. */
  validate?(options: ResolvedOptions, info: BackendModelInfo): void;
  /** Generations a run with these parameters is charged (definitions in budget.ts). */
  cost(params: ResolvedParams, options: ResolvedOptions): number;
  /** Runs from `root` (a live node with the question's prompt and PRM context). */
  run(ctx: SearchContext, root: PathNode, params: ResolvedParams): Promise<StrategyOutcome>;
}
