import type { BackendModelInfo } from '../backends/types.js';
import { OptionError } from '../errors.js';
import { AGGREGATIONS, isAggregation, type Aggregation } from './aggregate.js';
import { quantileThresholds, levelOf } from './difficulty.js';
import { checkStrategyName, type StrategyName, type StrategyParams } from './params.js';

/**
 * Compute-optimal allocation (Snell et al. 2024): on a calibration set, for each budget and each
 * difficulty level, the strategy and parameters that answered best. At run time the 'compute-optimal'
 * strategy predicts the question's level from a few samples and runs that choice.
 *
 * How a calibration set becomes a table (the `thinktree calibrate` command does the running):
 * 1. for each question, budget and candidate configuration, run compute-optimal with
 *    singleChoiceTable(…, budget, candidate): the difficulty samples, then the candidate, the samples
 *    joining its answer choice, just as at run time; record the difficulty it estimated and whether
 *    the answer was right: one CalibrationRow each;
 * 2. fitCalibration(rows, { policyId, prmId, difficultySamples, aggregation }) → table;
 *    saveCalibration(file, table) (lib/eval/calibration-file.ts: the search layer reads and writes no files).
 */

/** 2: the table records the aggregation its difficulty thresholds were measured under. */
export const CALIBRATION_VERSION = 2;

export interface CalibrationChoice {
  strategy: StrategyName;
  /** Parameters of the run; `n` defaults to the budget. */
  params: Partial<StrategyParams>;
}

export interface CalibrationTable {
  version: typeof CALIBRATION_VERSION;
  /** Identify the policy and PRM the table was fit for (BackendModelInfo.policyId / prmId). */
  policyId: string;
  prmId: string;
  /** Samples spent estimating a question's difficulty (charged to the budget at run time). */
  difficultySamples: number;
  /**
   * How the samples' step scores became the difficulty (difficultyScore). The thresholds are on that
   * scale, so compute-optimal runs only under this aggregation.
   */
  aggregation: Aggregation;
  /** Ascending; levels = thresholds.length + 1, level 1 the easiest. */
  thresholds: number[];
  /** budget (generations, as a decimal string) → level (as a string) → choice. */
  choices: Record<string, Record<string, CalibrationChoice>>;
}

/** One calibration run: a question answered by one configuration at one budget. */
export interface CalibrationRow {
  question: string;
  /** difficultyScore of the question (the same for all its rows). */
  difficulty: number;
  budget: number;
  strategy: StrategyName;
  params?: Partial<StrategyParams>;
  correct: boolean;
}

/** What a table is made for and how its difficulty was measured: the models, the samples, the aggregation. */
export type CalibrationSetup = Pick<CalibrationTable, 'policyId' | 'prmId' | 'difficultySamples' | 'aggregation'>;

export interface FitOptions extends CalibrationSetup {
  /** @default 5 */
  levels?: number;
}

/** Stable key of a configuration (parameter order does not matter). */
function configKey(strategy: string, params: Partial<StrategyParams>): string {
  const sorted = Object.keys(params)
    .sort()
    .map((k) => [k, (params as Record<string, unknown>)[k]]);
  return JSON.stringify([strategy, sorted]);
}

/**
 * Thresholds at the quantiles of the questions' difficulty scores; for each budget and level, the
 * configuration with the best accuracy on that level's questions (ties: the configuration seen first in
 * `rows`). A level without questions gets the budget's best configuration over all questions.
 */
export function fitCalibration(rows: readonly CalibrationRow[], options: FitOptions): CalibrationTable {
  const levels = options.levels ?? 5;
  if (!Number.isInteger(levels) || levels < 1) throw new OptionError(`Expected \`levels\` to be a positive integer, got ${levels}`);
  if (rows.length === 0) throw new OptionError('fitCalibration needs at least one row');
  const perQuestion = new Map<string, number[]>();
  for (const r of rows) {
    checkStrategyName(r.strategy);
    if (!Number.isFinite(r.difficulty)) throw new OptionError(`Row for question ${r.question} has difficulty ${r.difficulty}`);
    if (!Number.isInteger(r.budget) || r.budget < 1) throw new OptionError(`Row for question ${r.question} has budget ${r.budget}`);
    perQuestion.set(r.question, [...(perQuestion.get(r.question) ?? []), r.difficulty]);
  }
  const difficulty = new Map([...perQuestion].map(([q, ds]) => [q, ds.reduce((a, b) => a + b, 0) / ds.length]));
  const thresholds = quantileThresholds([...difficulty.values()], levels);
  const level = (q: string) => levelOf(difficulty.get(q)!, thresholds);

  const choices: CalibrationTable['choices'] = {};
  const budgets = [...new Set(rows.map((r) => r.budget))].sort((a, b) => a - b);
  for (const budget of budgets) {
    const atBudget = rows.filter((r) => r.budget === budget);
    const bestOf = (subset: readonly CalibrationRow[]): CalibrationChoice => {
      const acc = new Map<string, { right: number; total: number; choice: CalibrationChoice }>();
      for (const r of subset) {
        const params = r.params ?? {};
        const key = configKey(r.strategy, params);
        const a = acc.get(key) ?? { right: 0, total: 0, choice: { strategy: r.strategy, params: { ...params } } };
        a.total++;
        if (r.correct) a.right++;
        acc.set(key, a);
      }
      let top: { right: number; total: number; choice: CalibrationChoice } | null = null;
      for (const a of acc.values()) if (top === null || a.right / a.total > top.right / top.total) top = a;
      return top!.choice;
    };
    const fallback = bestOf(atBudget);
    choices[String(budget)] = {};
    for (let l = 1; l <= levels; l++) {
      const inLevel = atBudget.filter((r) => level(r.question) === l);
      choices[String(budget)]![String(l)] = inLevel.length > 0 ? bestOf(inLevel) : fallback;
    }
  }
  return {
    version: CALIBRATION_VERSION,
    policyId: options.policyId,
    prmId: options.prmId,
    difficultySamples: options.difficultySamples,
    aggregation: options.aggregation,
    thresholds,
    choices,
  };
}

/** Checks a table's shape (a file can hold anything); returns it typed. */
export function checkCalibration(table: unknown): CalibrationTable {
  const t = table as Partial<CalibrationTable> | null;
  const bad = (what: string) => new OptionError(`Invalid calibration table: ${what}`);
  if (typeof t !== 'object' || t === null) throw bad('not an object');
  if (t.version !== CALIBRATION_VERSION) throw bad(`version ${String(t.version)}, expected ${CALIBRATION_VERSION}`);
  if (typeof t.policyId !== 'string' || typeof t.prmId !== 'string') throw bad('policyId and prmId must be strings');
  if (!Number.isInteger(t.difficultySamples) || t.difficultySamples! < 1) throw bad('difficultySamples must be a positive integer');
  if (!isAggregation(t.aggregation)) throw bad(`aggregation ${String(t.aggregation)}, expected one of ${AGGREGATIONS.join(', ')}`);
  const th = t.thresholds;
  if (!Array.isArray(th) || th.some((x, i) => typeof x !== 'number' || (i > 0 && x < th[i - 1]!))) {
    throw bad('thresholds must be ascending numbers');
  }
  if (typeof t.choices !== 'object' || t.choices === null || Object.keys(t.choices).length === 0) throw bad('no choices');
  for (const [budget, byLevel] of Object.entries(t.choices)) {
    if (!/^[1-9]\d*$/.test(budget)) throw bad(`budget key ${budget} is not a positive integer`);
    for (let l = 1; l <= th.length + 1; l++) {
      const c = byLevel?.[String(l)];
      if (c === undefined) throw bad(`no choice for budget ${budget}, level ${l}`);
      checkStrategyName(c.strategy);
      if (c.strategy === 'compute-optimal') throw bad(`budget ${budget}, level ${l} chooses compute-optimal itself`);
      if (typeof c.params !== 'object' || c.params === null) throw bad(`budget ${budget}, level ${l} has no params object`);
    }
  }
  return t as CalibrationTable;
}

/** A table made for other models is refused before any work. */
export function checkCalibrationModels(table: CalibrationTable, info: BackendModelInfo): void {
  if (info.policyId === undefined || info.prmId === undefined) {
    throw new OptionError(
      'The backend does not report policyId and prmId, so the calibration table ' +
        `(made for policy ${table.policyId}, PRM ${table.prmId}) cannot be checked against its models`,
    );
  }
  if (!sameCheckpoint(info.policyId, table.policyId) || !sameCheckpoint(info.prmId, table.prmId)) {
    throw new OptionError(
      `The calibration table was made for policy ${table.policyId} with PRM ${table.prmId}, but the backend ` +
        `runs policy ${info.policyId} with PRM ${info.prmId}; calibrate for these models first`,
    );
  }
}

/**
 * Checkpoint ids are `folder@weights-hash` (checkpointIdentity). The folder name says where the weights
 * were when the table was made, not what they are, so two ids of that form match on the hash alone: a
 * checkpoint copied or renamed keeps its table, and other weights under the same name do not. Ids of
 * any other form must be equal.
 */
function sameCheckpoint(running: string, calibrated: string): boolean {
  const hashOf = (id: string): string | null => {
    const at = id.lastIndexOf('@');
    return at > 0 && at < id.length - 1 ? id.slice(at + 1) : null;
  };
  const a = hashOf(running);
  const b = hashOf(calibrated);
  return a !== null && b !== null ? a === b : running === calibrated;
}

/**
 * A table with one level and one budget: compute-optimal run with it always runs `choice` at `budget`
 * after its difficulty samples. Calibration measures each candidate this way, so that a row is exactly
 * what compute-optimal will do when the fitted table picks that candidate.
 */
export function singleChoiceTable(setup: CalibrationSetup, budget: number, choice: CalibrationChoice): CalibrationTable {
  return checkCalibration({
    version: CALIBRATION_VERSION,
    policyId: setup.policyId,
    prmId: setup.prmId,
    difficultySamples: setup.difficultySamples,
    aggregation: setup.aggregation,
    thresholds: [],
    choices: { [String(budget)]: { '1': { strategy: choice.strategy, params: { ...choice.params } } } },
  });
}

/** The largest calibrated budget that fits in `available` generations, or null. */
export function budgetFor(table: CalibrationTable, available: number): number | null {
  const fits = Object.keys(table.choices)
    .map(Number)
    .filter((b) => b <= available);
  return fits.length === 0 ? null : Math.max(...fits);
}
