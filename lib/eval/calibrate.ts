/**
 * Fits a compute-optimal calibration table on a question set: every candidate configuration at every
 * budget, run as compute-optimal runs it (difficulty samples first, then the candidate) and graded
 * against the reference answer; fitCalibration picks the best configuration per budget and level of
 * the difficulty those runs estimated.
 */

import { OptionError } from '../errors.js';
import { fitCalibration, singleChoiceTable, type CalibrationRow, type CalibrationSetup, type CalibrationTable } from '../search/calibration-table.js';
import { DEFAULTS } from '../search/defaults.js';
import type { Task } from '../tasks/task.js';
import { mathTask } from '../tasks/math/task.js';
import type { StrategyName, StrategyParams } from '../search/types.js';
import type { EvalRecord } from './dataset.js';
import { EVAL_DEFAULTS } from './defaults.js';
import { runPool } from './pool.js';
import { isCorrect, type Searcher } from './runner.js';

export interface CalibrationCandidate {
  strategy: StrategyName;
  /** Stored in the table as the choice's params (n only where it differs from the budget). */
  params: Partial<StrategyParams>;
}

/**
 * The configurations tried at calibrated budget `budget`: majority and weighted best-of-n with n =
 * budget; beam search and DVTS with M = min(beamWidth, budget) and n the largest multiple of M that
 * fits (a budget such as 14 = 16 − 2 difficulty samples runs 12 beams, and compute-optimal spends the
 * other 2 on samples).
 */
export function calibrationCandidates(budget: number, beamWidth: number = EVAL_DEFAULTS.calibrationBeamWidth): CalibrationCandidate[] {
  const m = Math.min(beamWidth, budget);
  const grouped = budget - (budget % m);
  const groupedParams: Partial<StrategyParams> = grouped === budget ? { beamWidth: m } : { n: grouped, beamWidth: m };
  return [
    { strategy: 'weighted-best-of-n', params: {} },
    { strategy: 'beam', params: groupedParams },
    { strategy: 'dvts', params: { ...groupedParams } },
    { strategy: 'majority', params: {} },
  ];
}

/** The budgets a table is calibrated at so that compute-optimal can spend each total in `totals`. */
export function calibratedBudgets(totals: readonly number[], difficultySamples: number): number[] {
  const out = totals.map((t) => {
    if (t <= difficultySamples) {
      throw new OptionError(
        `Budget ${t} leaves nothing after ${difficultySamples} difficulty samples; compute-optimal needs budgets above ${difficultySamples}`,
      );
    }
    return t - difficultySamples;
  });
  return [...new Set(out)].sort((a, b) => a - b);
}

export interface CalibrateProgress {
  done: number;
  total: number;
  work: number;
  totalWork: number;
  elapsedMs: number;
}

export interface RunCalibrationOptions {
  /** Totals compute-optimal will be run at (difficulty samples included); see calibratedBudgets. */
  budgets: readonly number[];
  policyId: string;
  prmId: string;
  /** @default EVAL_DEFAULTS.difficultySamples */
  difficultySamples?: number;
  /** @default EVAL_DEFAULTS.calibrationLevels */
  levels?: number;
  /** @default EVAL_DEFAULTS.calibrationBeamWidth */
  beamWidth?: number;
  /** Shared parameters (temperature, maxStepTokens, ...), as the evaluations will use them. */
  params?: Partial<StrategyParams>;
  /** Question i runs with seed `seed + i`. @default 0 */
  seed?: number;
  /** @default 8 */
  concurrency?: number;
  /** @default mathTask */
  task?: Task;
  onProgress?: (progress: CalibrateProgress) => void;
  signal?: AbortSignal;
}

export interface CalibrationRun {
  rows: CalibrationRow[];
  table: CalibrationTable;
}

interface Job {
  index: number;
  budget: number;
  candidate: CalibrationCandidate;
  /** Generations: the difficulty samples and the budget. */
  work: number;
}

export async function runCalibration(searcher: Searcher, records: readonly EvalRecord[], options: RunCalibrationOptions): Promise<CalibrationRun> {
  if (records.length === 0) throw new OptionError('Calibration needs at least one question');
  const samples = options.difficultySamples ?? EVAL_DEFAULTS.difficultySamples;
  const budgets = calibratedBudgets(options.budgets, samples);
  const task = options.task ?? mathTask;
  const seed = options.seed ?? 0;
  // The difficulty is measured under the aggregation the searches run with, and the table says which.
  const setup: CalibrationSetup = {
    policyId: options.policyId,
    prmId: options.prmId,
    difficultySamples: samples,
    aggregation: options.params?.aggregation ?? DEFAULTS.aggregation,
  };
  const jobs: Job[] = [];
  for (const budget of budgets) {
    for (const candidate of calibrationCandidates(budget, options.beamWidth)) {
      for (let index = 0; index < records.length; index++) jobs.push({ index, budget, candidate, work: samples + budget });
    }
  }
  const totalWork = jobs.reduce((s, j) => s + j.work, 0);
  const started = performance.now();
  let done = 0;
  let work = 0;
  const outcomes = await runPool(
    jobs.length,
    options.concurrency ?? EVAL_DEFAULTS.concurrency,
    async (i, signal) => {
      const job = jobs[i]!;
      const record = records[job.index]!;
      // The candidate forced as compute-optimal's only choice: the same difficulty samples (same seed)
      // for every candidate, and the samples join the candidate's answer choice as at run time.
      const calibration = singleChoiceTable(setup, job.budget, job.candidate);
      const res = await searcher.search(record.problem, {
        ...options.params,
        seed: seed + job.index,
        task,
        signal,
        strategy: 'compute-optimal',
        n: samples + job.budget,
        calibration,
      });
      if (res.details?.kind !== 'compute-optimal') {
        throw new Error(`compute-optimal search for question ${record.uniqueId} reported no difficulty`);
      }
      done++;
      work += job.work;
      options.onProgress?.({ done, total: jobs.length, work, totalWork, elapsedMs: performance.now() - started });
      // No scored sample (nothing generated) is the hardest case, as levelOf treats NaN at run time.
      const difficulty = Number.isNaN(res.details.difficulty) ? 0 : res.details.difficulty;
      return { difficulty, correct: isCorrect(task, res, record.answer) };
    },
    options.signal,
  );
  const rows: CalibrationRow[] = jobs.map((job, i) => ({
    // The unique id, not the text: two records with the same text are still two questions.
    question: records[job.index]!.uniqueId,
    difficulty: outcomes[i]!.difficulty,
    budget: job.budget,
    strategy: job.candidate.strategy,
    params: job.candidate.params,
    correct: outcomes[i]!.correct,
  }));
  const table = fitCalibration(rows, { ...setup, levels: options.levels ?? EVAL_DEFAULTS.calibrationLevels });
  return { rows, table };
}
