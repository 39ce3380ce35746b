import type { Strategy } from './strategy.js';
import { beam } from './strategies/beam.js';
import { bestOfN } from './strategies/best-of-n.js';
import { computeOptimal } from './strategies/compute-optimal.js';
import { dvts } from './strategies/dvts.js';
import { lookahead } from './strategies/lookahead.js';
import { majority } from './strategies/majority.js';
import { mcts } from './strategies/mcts.js';
import { revisions } from './strategies/revisions.js';
import { weightedBestOfN } from './strategies/weighted-best-of-n.js';
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
