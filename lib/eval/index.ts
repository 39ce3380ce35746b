export {
  DatasetError, firstPerLevel, loadDataset, loadDatasets, parseDataset, readDataText, type EvalRecord,
} from './dataset.js';
export { EVAL_DEFAULTS, EVAL_SEARCH_PARAMS } from './defaults.js';
export {
  EVAL_STRATEGIES, GREEDY, buildPlan, checkEvalStrategy, parseBudgets, parseStrategies,
  type EvalConfig, type Plan, type PlanInput, type SkippedConfig,
} from './plan.js';
export { runPool } from './pool.js';
export { isCorrect, runEval, type EvalProgress, type ProblemResult, type RunEvalOptions, type Searcher } from './runner.js';
export { aggregateResults, levelGroups, parseLevelGroups, poolRows, type EvalRow, type LevelGroup, type PooledRow } from './aggregate.js';
export { formatPercent, markdownReport, type MarkdownOptions } from './markdown.js';
export { accuracyChart, escapeXml, type ChartOptions } from './svg.js';
export { formatDuration } from './duration.js';
export { nodeFates, oneLine, pathsOf, renderTree, type NodeFate, type TreeViewOptions } from './tree-view.js';
export { rowsJson, timestampedDir, writeEvalOutputs, type EvalOutputs, type WrittenFiles } from './output.js';
export {
  calibratedBudgets, calibrationCandidates, runCalibration,
  type CalibrateProgress, type CalibrationCandidate, type CalibrationRun, type RunCalibrationOptions,
} from './calibrate.js';
export { loadCalibration, saveCalibration } from './calibration-file.js';
export { buildReport, costLine, type Report, type ReportOptions } from './report.js';
