/**
 * `thinktree eval`: accuracy vs budget of search strategies on a MATH-500-style JSONL data set, per
 * level, with one engine; writes results.json, results.md and accuracy.svg.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { Engine } from '../../engine/engine.js';
import { checkCalibrationModels, type CalibrationTable } from '../../search/calibration-table.js';
import { loadCalibration } from '../../eval/calibration-file.js';
import type { StrategyParams } from '../../search/types.js';
import { firstPerLevel, loadDatasets } from '../../eval/dataset.js';
import { EVAL_DEFAULTS } from '../../eval/defaults.js';
import { buildPlan, EVAL_STRATEGIES, parseBudgets, parseStrategies, type Plan } from '../../eval/plan.js';
import { buildReport, costLine } from '../../eval/report.js';
import { formatDuration } from '../../eval/duration.js';
import { rowsJson, timestampedDir, writeEvalOutputs } from '../../eval/output.js';
import { runEval } from '../../eval/runner.js';
import { asUsage, intFlag, listFlag, parseFlags, str, strs, UsageError, withUsage, type CliIo } from '../flags.js';
import { reportKvLeaks } from '../kv-leaks.js';
import { stderrProgress } from '../progress.js';
import { SEARCH_FLAGS, searchFlagsHelp, searchParams } from '../search-flags.js';
import { BACKEND_FLAGS, backendFlagsHelp, remoteFlags, remoteHasPrm, RemoteSearcher, type RemoteFlags } from '../backend-flags.js';
import { parseLevelGroups } from '../../eval/aggregate.js';
import { TreeFolder, treeRecorder } from '../../viewer/tree-files.js';
import type { Command } from './types.js';
import { checkOutputDir, checkWritableFile } from '../output-paths.js';

const HELP = `Usage: thinktree eval --data FILE.jsonl --model DIR [--prm DIR] [options]
       thinktree eval --data FILE.jsonl --backend URL [--prm-backend URL | --prm-model NAME] [options]

Runs search strategies at several budgets on every problem of a MATH-500-style JSONL file (problem,
answer, level), plus greedy decoding, and reports accuracy per level.

Options:
  --data FILE          JSONL data, plain or gzipped (repeatable, or comma-separated)
  --model DIR          policy model directory (Hugging Face layout)
  --prm DIR            process reward model directory (needed by every strategy but majority)
${backendFlagsHelp(23)}
  --strategy S[,S...]  strategies (default majority,weighted-best-of-n,beam,dvts with --prm, else majority);
                       known: ${EVAL_STRATEGIES.join(', ')}
  --budget N[,N...]    budgets in generations (default 1,4,16,64); lookahead, whose rollouts cost a
                       generation per step, runs budget / 2 candidates
  --beam-width M       M of beam, lookahead and DVTS; must divide every candidate count (default min(4, count))
  --calibration FILE   calibration table for compute-optimal (thinktree calibrate)
  --concurrency K      searches in flight at once, batched together (default ${EVAL_DEFAULTS.concurrency})
  --limit N            only the first N problems of each level
  --seed S             problem i uses seed S + i (default ${EVAL_DEFAULTS.seed})
${searchFlagsHelp(23)}
  --level-groups SPEC  tables and panels over level groups, e.g. 1-2,3,4-5 (default one per level)
  --no-greedy          leave out the greedy baseline
  --threads N          kernel threads (default: all cores)
  --out DIR            output folder (default ./thinktree-eval-<timestamp>)
  --json FILE          also write the result rows as JSON to FILE
  --trees DIR          also write each search's tree as an HTML viewer page, DIR/<config>/<problem>.html,
                       with DIR/index.html linking them
  -h, --help           show this help
`;

const FLAGS = {
  data: { type: 'string', multiple: true },
  model: { type: 'string' },
  prm: { type: 'string' },
  strategy: { type: 'string' },
  budget: { type: 'string' },
  'beam-width': { type: 'string' },
  calibration: { type: 'string' },
  concurrency: { type: 'string' },
  limit: { type: 'string' },
  seed: { type: 'string' },
  ...SEARCH_FLAGS,
  ...BACKEND_FLAGS,
  'level-groups': { type: 'string' },
  'no-greedy': { type: 'boolean' },
  threads: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'string' },
  trees: { type: 'string' },
} as const;

export interface EvalFlags {
  data: string[];
  /** Undefined with --backend. */
  model: string | undefined;
  prm: string | undefined;
  /** The servers, with --backend; null for local models. */
  remote: RemoteFlags | null;
  strategies: string[];
  budgets: number[];
  beamWidth: number | undefined;
  calibration: string | undefined;
  concurrency: number;
  limit: number | undefined;
  seed: number;
  params: Partial<StrategyParams>;
  levelGroups: string | null;
  greedy: boolean;
  threads: number | undefined;
  out: string | undefined;
  json: string | undefined;
  trees: string | undefined;
}

/** Checks every flag (UsageError); reads no file. */
export function parseEvalFlags(argv: string[]): EvalFlags | 'help' {
  const v = parseFlags(argv, FLAGS);
  if (v.help) return 'help';
  const data = listFlag(strs(v, 'data'));
  if (data.length === 0) throw new UsageError('Missing required flag --data FILE.jsonl');
  const remote = remoteFlags(v, ['model', 'prm', 'threads']);
  const model = str(v, 'model');
  if (model === undefined && remote === null) throw new UsageError('Missing required flag --model DIR (or --backend URL)');
  const prm = str(v, 'prm');
  const hasPrm = prm !== undefined || (remote !== null && remoteHasPrm(remote));
  const strategies = asUsage(() => parseStrategies(str(v, 'strategy') ?? (hasPrm ? 'majority,weighted-best-of-n,beam,dvts' : 'majority')));
  const budgets = asUsage(() => parseBudgets(str(v, 'budget') ?? '1,4,16,64'));
  const groups = str(v, 'level-groups') ?? null;
  if (groups !== null) asUsage(() => parseLevelGroups(groups));
  return {
    data,
    model,
    prm,
    remote,
    strategies,
    budgets,
    beamWidth: v['beam-width'] === undefined ? undefined : intFlag('beam-width', str(v, 'beam-width'), 4),
    calibration: str(v, 'calibration'),
    concurrency: intFlag('concurrency', str(v, 'concurrency'), EVAL_DEFAULTS.concurrency),
    limit: v.limit === undefined ? undefined : intFlag('limit', str(v, 'limit'), 1),
    seed: intFlag('seed', str(v, 'seed'), EVAL_DEFAULTS.seed, 0),
    params: searchParams(v),
    levelGroups: groups,
    greedy: v['no-greedy'] !== true,
    threads: v.threads === undefined ? undefined : intFlag('threads', str(v, 'threads'), 1),
    out: outputFlag(v, 'out', checkOutputDir),
    json: outputFlag(v, 'json', checkWritableFile),
    trees: outputFlag(v, 'trees', checkOutputDir),
  };
}

/** An output path flag, checked at start (see output-paths.ts). */
function outputFlag(v: Parameters<typeof str>[0], flag: string, check: (flag: string, p: string) => void): string | undefined {
  const p = str(v, flag);
  if (p !== undefined) check(flag, p);
  return p;
}

/** The plan for these flags (UsageError for a combination that cannot run). */
export function planFor(flags: EvalFlags, calibration: CalibrationTable | null): Plan {
  return asUsage(() =>
    buildPlan({
      strategies: flags.strategies,
      budgets: flags.budgets,
      beamWidth: flags.beamWidth,
      greedy: flags.greedy,
      calibration,
      hasPrm: flags.prm !== undefined || (flags.remote !== null && remoteHasPrm(flags.remote)),
      params: flags.params,
    }),
  );
}

async function runEvalCommand(argv: string[], io: CliIo): Promise<number> {
  const flags = parseEvalFlags(argv);
  if (flags === 'help') {
    io.stdout(HELP);
    return 0;
  }
  const calibration = flags.calibration === undefined ? null : await loadCalibration(flags.calibration);
  const plan = planFor(flags, calibration);
  let records = await loadDatasets(flags.data);
  if (flags.limit !== undefined) records = firstPerLevel(records, flags.limit);
  if (flags.trees !== undefined) await mkdir(flags.trees, { recursive: true });
  const started = performance.now();
  const engineOptions = flags.threads === undefined ? {} : { threads: flags.threads };
  const engine = flags.remote
    ? await RemoteSearcher.connect(flags.remote)
    : await Engine.load(flags.model!, flags.prm, { policy: engineOptions, prm: engineOptions });
  try {
    if (calibration !== null && plan.configs.some((c) => c.strategy === 'compute-optimal')) {
      checkCalibrationModels(calibration, engine.backend.info);
    }
    io.stderr(`${records.length} problems × ${plan.configs.length} configurations, ${flags.concurrency} in flight\n`);
    const bar = stderrProgress(io, 'eval');
    const runStarted = performance.now();
    const info = engine.backend.info;
    const trees = flags.trees === undefined ? null : new TreeFolder(flags.trees);
    const searcher = trees === null ? engine : treeRecorder(engine, records, plan.configs, trees, { policy: info.policyId ?? null, prm: info.prmId ?? null });
    const results = await runEval(searcher, records, {
      configs: plan.configs,
      concurrency: flags.concurrency,
      seed: flags.seed,
      params: flags.params,
      calibration,
      onProgress: (p) => bar.update(p.work / p.totalWork, `${p.done}/${p.total} · ${p.last.strategy} N=${p.last.budget}`),
    });
    bar.finish();
    const runMs = performance.now() - runStarted;
    if (engine instanceof Engine) reportKvLeaks(engine, io);
    const p = flags.params;
    const report = buildReport(results, {
      levelGroups: flags.levelGroups,
      skipped: plan.skipped,
      notes: [
        `data: ${flags.data.join(', ')} (${records.length} problems); policy ${engine.backend.info.policyId}` +
          (engine.backend.info.prmId !== undefined ? `; PRM ${engine.backend.info.prmId}` : '') +
          (flags.remote ? `; served at ${flags.remote.url}` : ''),
        `temperature ${p.temperature}, ${p.aggregation} step-score aggregation, at most ${p.maxIterations} steps of ${p.maxStepTokens} tokens, seed ${flags.seed}` +
          (flags.beamWidth ? `, beam width ${flags.beamWidth}` : ', beam width min(4, N)'),
        costLine(results, runMs),
      ],
    });
    const dir = flags.out ?? timestampedDir('thinktree-eval');
    await writeEvalOutputs(dir, { rows: report.rows, results, markdown: report.markdown, svg: report.svg });
    if (flags.json !== undefined) await writeFile(flags.json, rowsJson(report.rows), 'utf8');
    io.stdout(`${report.markdown}\n`);
    io.stdout(`Wrote results.json, results.md, accuracy.svg, problems.jsonl to ${dir}` + (flags.json ? ` and rows to ${flags.json}` : '') + '\n');
    if (trees !== null) io.stdout(`Wrote ${trees.pages.length} search trees to ${flags.trees}; open ${await trees.writeIndex('thinktree eval: search trees')}\n`);
    io.stderr(`total ${formatDuration(performance.now() - started)}\n`);
    return 0;
  } finally {
    engine.dispose();
  }
}

export const evalCommand: Command = {
  summary: 'accuracy vs budget of search strategies on a JSONL data set, per level (Markdown, SVG, JSON)',
  run: (argv, io) => withUsage('eval', HELP, io, () => runEvalCommand(argv, io)),
};
