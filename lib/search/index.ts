export { search } from './search.js';
export type {
  Candidate,
  ProgressEvent,
  RevisionSelect,
  SearchOptions,
  SearchResult,
  StrategyDetails,
  StrategyName,
  StrategyParams,
  TreeNode,
  TreeNodeKind,
  Usage,
} from './types.js';
export { STRATEGY_NAMES, checkStrategyName, isStrategyName } from './params.js';
export { STRATEGIES } from './registry.js';
export { AGGREGATIONS, aggregateScores, type Aggregation } from './aggregate.js';
export type { Task } from '../tasks/task.js';
export { forwardFlops } from './accounting.js';
export { difficultyScore, levelOf, quantile, quantileThresholds } from './difficulty.js';
export {
  CALIBRATION_VERSION,
  budgetFor,
  checkCalibration,
  checkCalibrationModels,
  fitCalibration,
  type CalibrationChoice,
  type CalibrationRow,
  type CalibrationSetup,
  type CalibrationTable,
  type FitOptions,
} from './calibration-table.js';
export { select, type Ballot } from './vote.js';
