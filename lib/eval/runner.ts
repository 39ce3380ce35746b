/**
 * Runs an evaluation plan on a data set with one engine: every (configuration, problem) pair is a job,
 * and up to `concurrency` jobs run at once so that the engine batches their step generations and
 * scorings together.
 */

import type { CalibrationTable } from '../search/calibration-table.js';
import type { Task } from '../tasks/task.js';
import { mathTask } from '../tasks/math/task.js';
import type { SearchOptions, SearchResult, StrategyName, StrategyParams } from '../search/types.js';
import type { EvalRecord } from './dataset.js';
import type { EvalConfig } from './plan.js';
import { runPool } from './pool.js';
import { WeightedGate } from '../util/weighted-gate.js';

/** What the runner needs from an engine (Engine satisfies it; tests may script it). */
export interface Searcher {
  search(question: string, options: Omit<SearchOptions, 'backend'>): Promise<SearchResult>;
}

/** One problem answered by one configuration. */
export interface ProblemResult {
  /** The configuration's label (the strategy name, or `greedy`). */
  strategy: string;
  /** The strategy that ran (greedy runs as majority). */
  searchStrategy: StrategyName;
  budget: number;
  level: number;
  uniqueId: string;
  answer: string | null;
  expected: string;
  correct: boolean;
  /** usage.flops of the search. */
  flops: number;
  /** Policy tokens generated plus PRM tokens scored. */
  tokens: number;
  /** Generations charged (usage.generations). */
  generations: number;
  wallMs: number;
  stopReason: SearchResult['stopReason'];
}

export interface EvalProgress {
  /** Jobs finished and in all (a job is one problem under one configuration). */
  done: number;
  total: number;
  /** Budget units finished and in all: a job weighs its budget, a fair proxy for its cost. */
  work: number;
  totalWork: number;
  /** The job that just finished. */
  last: ProblemResult;
  elapsedMs: number;
}

export interface RunEvalOptions {
  configs: readonly EvalConfig[];
  /**
   * Searches in flight at once; the engine merges their batches.
   * @default 8
   */
  concurrency?: number;
  /**
   * Generations (the searches' `n`, summed) in flight at once: big budgets then run fewer searches side
   * by side, so the KV pools hold what is in flight.
   * @default 256
   */
  maxGenerationsInFlight?: number;
  /**
   * Problem i (its index in the data) searches with seed `seed + i`, under every configuration, so runs
   * are reproducible and configurations are compared on the same random streams.
   * @default 0
   */
  seed?: number;
  /** Shared strategy parameters (maxStepTokens, maxIterations, temperature, ...); a configuration's own win. */
  params?: Partial<StrategyParams>;
  calibration?: CalibrationTable | null;
  /** Grades the answers. @default mathTask */
  task?: Task;
  onProgress?: (progress: EvalProgress) => void;
  signal?: AbortSignal;
}

/** Whether the search's answer matches the reference, by the task's own extraction and equality. */
export function isCorrect(task: Task, result: Pick<SearchResult, 'answer'>, expected: string): boolean {
  return result.answer !== null && task.answersEqual(result.answer, expected);
}

export async function runEval(searcher: Searcher, records: readonly EvalRecord[], options: RunEvalOptions): Promise<ProblemResult[]> {
  const task = options.task ?? mathTask;
  const seed = options.seed ?? 0;
  const jobs = options.configs.flatMap((config) => records.map((record, index) => ({ config, record, index })));
  const totalWork = jobs.reduce((s, j) => s + j.config.budget, 0);
  const started = performance.now();
  let done = 0;
  let work = 0;
  const gate = new WeightedGate(options.maxGenerationsInFlight ?? 256);
  return runPool(
    jobs.length,
    options.concurrency ?? 8,
    async (i, signal) => {
      const { config, record, index } = jobs[i]!;
      const searchOptions: Omit<SearchOptions, 'backend'> = {
        ...options.params,
        ...config.params,
        n: config.params.n ?? config.budget,
        strategy: config.strategy,
        seed: seed + index,
        task,
        signal,
      };
      if (options.calibration) searchOptions.calibration = options.calibration;
      const admitted = await gate.enter(config.budget);
      let result: SearchResult;
      try {
        result = await searcher.search(record.problem, searchOptions);
      } finally {
        gate.leave(admitted);
      }
      const out: ProblemResult = {
        strategy: config.label,
        searchStrategy: config.strategy,
        budget: config.budget,
        level: record.level,
        uniqueId: record.uniqueId,
        answer: result.answer,
        expected: record.answer,
        correct: isCorrect(task, result, record.answer),
        flops: result.usage.flops,
        tokens: result.usage.policyTokensGenerated + result.usage.prmTokensScored,
        generations: result.usage.generations,
        wallMs: result.usage.wallMs,
        stopReason: result.stopReason,
      };
      done++;
      work += config.budget;
      options.onProgress?.({ done, total: jobs.length, work, totalWork, last: out, elapsedMs: performance.now() - started });
      return out;
    },
    options.signal,
  );
}
