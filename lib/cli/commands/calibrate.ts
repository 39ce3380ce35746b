/**
 * `thinktree calibrate`: fits the compute-optimal table (which strategy to run at each budget for each
 * predicted difficulty level) on a calibration set, for one policy and PRM.
 */

import { writeFile } from 'node:fs/promises';
import { Engine } from '../../engine/engine.js';
import type { CalibrationTable } from '../../search/calibration-table.js';
import { saveCalibration } from '../../eval/calibration-file.js';
import type { StrategyParams } from '../../search/types.js';
import { calibratedBudgets, calibrationCandidates, runCalibration } from '../../eval/calibrate.js';
import { firstPerLevel, loadDatasets } from '../../eval/dataset.js';
import { EVAL_DEFAULTS } from '../../eval/defaults.js';
import { parseBudgets } from '../../eval/plan.js';
import { formatDuration } from '../../eval/duration.js';
import { asUsage, intFlag, listFlag, parseFlags, str, strs, UsageError, withUsage, type CliIo } from '../flags.js';
import { stderrProgress } from '../progress.js';
import { SEARCH_FLAGS, searchFlagsHelp, searchParams } from '../search-flags.js';
import { BACKEND_FLAGS, backendFlagsHelp, remoteFlags, remoteHasPrm, RemoteSearcher, type RemoteFlags } from '../backend-flags.js';
import type { Command } from './types.js';
import { checkWritableFile } from '../output-paths.js';

const HELP = `Usage: thinktree calibrate --data calibration.jsonl --model DIR --prm DIR --out table.json [options]
       thinktree calibrate --data calibration.jsonl --backend URL (--prm-backend URL | --prm-model NAME) --out table.json [options]

Runs each question as compute-optimal would with each of majority, weighted best-of-N, beam search and
DVTS at each budget: a few samples whose mean PRM score (under --aggregation) is the question's
difficulty, then the configuration, the samples joining its answer choice. The table keeps, per budget
and difficulty level, the configuration that answered most questions of that level, and records the
aggregation: compute-optimal runs under it.

Options:
  --data FILE               calibration JSONL (problem, answer, level); repeatable or comma-separated
  --model DIR               policy model directory
  --prm DIR                 process reward model directory
  --out FILE                where the table goes (JSON), e.g. models/calibration.json
${backendFlagsHelp(28)}
  --budget N[,N...]         totals compute-optimal will run at (default 4,16,64); each is calibrated
                            at N minus the difficulty samples
  --difficulty-samples S    samples spent estimating difficulty (default ${EVAL_DEFAULTS.difficultySamples})
  --levels L                difficulty levels (default ${EVAL_DEFAULTS.calibrationLevels})
  --beam-width M            M of beam search and DVTS candidates (default ${EVAL_DEFAULTS.calibrationBeamWidth})
  --limit N                 only the first N questions of each level
  --concurrency K           searches in flight at once (default ${EVAL_DEFAULTS.concurrency})
  --seed S                  question i uses seed S + i (default ${EVAL_DEFAULTS.seed})
${searchFlagsHelp(28)}
  --rows FILE               also write the raw calibration rows as JSON
  --threads N               kernel threads (default: all cores)
  -h, --help                show this help
`;

const FLAGS = {
  data: { type: 'string', multiple: true },
  model: { type: 'string' },
  prm: { type: 'string' },
  out: { type: 'string' },
  budget: { type: 'string' },
  'difficulty-samples': { type: 'string' },
  levels: { type: 'string' },
  'beam-width': { type: 'string' },
  limit: { type: 'string' },
  concurrency: { type: 'string' },
  seed: { type: 'string' },
  ...SEARCH_FLAGS,
  ...BACKEND_FLAGS,
  rows: { type: 'string' },
  threads: { type: 'string' },
} as const;

export interface CalibrateFlags {
  data: string[];
  /** model and prm are undefined with --backend. */
  model: string | undefined;
  prm: string | undefined;
  remote: RemoteFlags | null;
  out: string;
  budgets: number[];
  difficultySamples: number;
  levels: number;
  beamWidth: number;
  limit: number | undefined;
  concurrency: number;
  seed: number;
  params: Partial<StrategyParams>;
  rows: string | undefined;
  threads: number | undefined;
}

export function parseCalibrateFlags(argv: string[]): CalibrateFlags | 'help' {
  const v = parseFlags(argv, FLAGS);
  if (v.help) return 'help';
  const data = listFlag(strs(v, 'data'));
  if (data.length === 0) throw new UsageError('Missing required flag --data FILE.jsonl');
  const model = str(v, 'model');
  const prm = str(v, 'prm');
  const out = str(v, 'out');
  const remote = remoteFlags(v, ['model', 'prm', 'threads']);
  if (remote !== null) {
    if (!remoteHasPrm(remote)) throw new UsageError("Missing --prm-backend URL or --prm-model NAME (difficulty is the PRM's score)");
  } else {
    if (model === undefined) throw new UsageError('Missing required flag --model DIR (or --backend URL)');
    if (prm === undefined) throw new UsageError('Missing required flag --prm DIR (difficulty is the PRM\'s score)');
  }
  if (out === undefined) throw new UsageError('Missing required flag --out FILE');
  checkWritableFile('out', out);
  const rows = str(v, 'rows');
  if (rows !== undefined) checkWritableFile('rows', rows);
  const difficultySamples = intFlag('difficulty-samples', str(v, 'difficulty-samples'), EVAL_DEFAULTS.difficultySamples);
  const budgets = asUsage(() => parseBudgets(str(v, 'budget') ?? '4,16,64'));
  asUsage(() => calibratedBudgets(budgets, difficultySamples));
  return {
    data,
    model,
    prm,
    remote,
    out,
    budgets,
    difficultySamples,
    levels: intFlag('levels', str(v, 'levels'), EVAL_DEFAULTS.calibrationLevels, 1, 100),
    beamWidth: intFlag('beam-width', str(v, 'beam-width'), EVAL_DEFAULTS.calibrationBeamWidth),
    limit: v.limit === undefined ? undefined : intFlag('limit', str(v, 'limit'), 1),
    concurrency: intFlag('concurrency', str(v, 'concurrency'), EVAL_DEFAULTS.concurrency),
    seed: intFlag('seed', str(v, 'seed'), EVAL_DEFAULTS.seed, 0),
    params: searchParams(v),
    rows,
    threads: v.threads === undefined ? undefined : intFlag('threads', str(v, 'threads'), 1),
  };
}

/** The table's choices as text: one line per calibrated budget, one cell per level. */
export function describeTable(table: CalibrationTable): string {
  const levels = table.thresholds.length + 1;
  const lines = [
    `difficulty thresholds (mean ${table.aggregation} PRM score; level 1 = easiest): ${table.thresholds.map((t) => t.toFixed(3)).join(', ')}`,
  ];
  for (const [budget, byLevel] of Object.entries(table.choices).sort((a, b) => Number(a[0]) - Number(b[0]))) {
    const cells = Array.from({ length: levels }, (_, i) => {
      const c = byLevel[String(i + 1)]!;
      const params = Object.entries(c.params).map(([k, val]) => `${k}=${String(val)}`).join(' ');
      return `L${i + 1}: ${c.strategy}${params ? ` (${params})` : ''}`;
    });
    lines.push(`budget ${budget} (+${table.difficultySamples}): ${cells.join('; ')}`);
  }
  return lines.join('\n');
}

async function runCalibrateCommand(argv: string[], io: CliIo): Promise<number> {
  const flags = parseCalibrateFlags(argv);
  if (flags === 'help') {
    io.stdout(HELP);
    return 0;
  }
  let records = await loadDatasets(flags.data);
  if (flags.limit !== undefined) records = firstPerLevel(records, flags.limit);
  const engineOptions = flags.threads === undefined ? {} : { threads: flags.threads };
  const engine = flags.remote
    ? await RemoteSearcher.connect(flags.remote)
    : await Engine.load(flags.model!, flags.prm, { policy: engineOptions, prm: engineOptions });
  try {
    const budgets = calibratedBudgets(flags.budgets, flags.difficultySamples);
    const candidates = calibrationCandidates(budgets[0]!, flags.beamWidth).length;
    io.stderr(
      `${records.length} questions × ${candidates} candidates at budgets ${budgets.join(', ')}, each after ` +
        `${flags.difficultySamples} difficulty samples, ${flags.concurrency} in flight\n`,
    );
    const bar = stderrProgress(io, 'calibrate');
    const started = performance.now();
    const run = await runCalibration(engine, records, {
      budgets: flags.budgets,
      policyId: engine.backend.info.policyId!,
      prmId: engine.backend.info.prmId!,
      difficultySamples: flags.difficultySamples,
      levels: flags.levels,
      beamWidth: flags.beamWidth,
      params: flags.params,
      seed: flags.seed,
      concurrency: flags.concurrency,
      onProgress: (p) => bar.update(p.work / p.totalWork, `${p.done}/${p.total}`),
    });
    bar.finish();
    await saveCalibration(flags.out, run.table);
    if (flags.rows !== undefined) await writeFile(flags.rows, `${JSON.stringify(run.rows, null, 2)}\n`, 'utf8');
    io.stdout(`${describeTable(run.table)}\n`);
    io.stdout(`Wrote the calibration table to ${flags.out} (${formatDuration(performance.now() - started)})\n`);
    return 0;
  } finally {
    engine.dispose();
  }
}

export const calibrateCommand: Command = {
  summary: 'fit the compute-optimal table (best strategy per budget and difficulty) on a calibration set',
  run: (argv, io) => withUsage('calibrate', HELP, io, () => runCalibrateCommand(argv, io)),
};
