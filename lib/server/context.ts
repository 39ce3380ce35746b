/** What every endpoint handler gets: the served models, the generator, the metrics and the limits. */
import type { Engine } from '../engine/engine.js';
import type { CalibrationTable } from '../search/calibration-table.js';
import type { StrategyParams } from '../search/params.js';
import type { Task } from '../tasks/task.js';
import type { Generator } from './generate.js';
import type { Metrics } from './metrics.js';

export interface ServerContext {
  engine: Engine;
  generator: Generator;
  metrics: Metrics;
  /** Served model ids: what `model` must name. */
  names: { policy: string; prm: string | null };
  /** Most tokens a policy sequence may hold (prompt plus completion). */
  policyContext: number;
  /** Most tokens a PRM input may hold. */
  prmContext: number;
  /** compute-optimal's table, when one was given or shipped with the models. */
  calibration: CalibrationTable | undefined;
  /** Answers and votes of search-as-model requests. */
  task: Task | undefined;
  /** Search parameters a search-as-model request starts from (the CLI's with the demo models). */
  searchDefaults: Partial<StrategyParams>;
  /** Searches running now (search-as-model requests). */
  searches: { running: number };
}
