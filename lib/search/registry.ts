import type { Strategy } from './strategy.js';
import { beam, lookahead } from './strategies/beam.js';
import { computeOptimal } from './strategies/compute-optimal.js';
import { dvts } from './strategies/dvts.js';
import { mcts } from './strategies/mcts.js';
import { revisions } from './strategies/revisions.js';
import { bestOfN, majority, weightedBestOfN } from './strategies/sampling.js';
import type { StrategyName } from './types.js';

/** Every strategy, by the name `search` takes. */
export const STRATEGIES: ReadonlyMap<StrategyName, Strategy> = new Map<StrategyName, Strategy>([
  ['majority', majority],
  ['best-of-n', bestOfN],
  ['weighted-best-of-n', weightedBestOfN],
  ['beam', beam],
  ['lookahead', lookahead],
  ['dvts', dvts],
  ['mcts', mcts],
  ['revisions', revisions],
  ['compute-optimal', computeOptimal((name) => STRATEGIES.get(name)!)],
]);
