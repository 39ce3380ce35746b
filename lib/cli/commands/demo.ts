/**
 * `thinktree demo`: the shipped models on the held-out arithmetic test set, with no arguments. Shows a
 * few problems solved by greedy decoding and by beam search (chosen path with step scores, and the
 * tree), then accuracy vs budget per level for majority, weighted best-of-N, beam, DVTS and
 * compute-optimal; writes the Markdown table and SVG chart, and the showcase searches' trees as HTML
 * viewer pages, to a folder it prints.
 */

import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../engine/engine.js';
import { BACKEND_FLAGS, backendFlagsHelp, remoteFlags, RemoteSearcher } from '../backend-flags.js';
import { checkCalibrationModels, type CalibrationTable } from '../../search/calibration-table.js';
import { loadCalibration } from '../../eval/calibration-file.js';
import { mathTask } from '../../tasks/math/task.js';
import type { SearchResult } from '../../search/types.js';
import { runCalibration } from '../../eval/calibrate.js';
import { firstPerLevel, loadDataset, loadDatasets, type EvalRecord } from '../../eval/dataset.js';
import { EVAL_DEFAULTS, EVAL_SEARCH_PARAMS } from '../../eval/defaults.js';
import { buildPlan, parseBudgets } from '../../eval/plan.js';
import { formatDuration } from '../../eval/duration.js';
import { buildReport, costLine } from '../../eval/report.js';
import { timestampedDir, writeEvalOutputs } from '../../eval/output.js';
import { isCorrect, runEval } from '../../eval/runner.js';
import { oneLine, renderTree } from '../../eval/tree-view.js';
import { searchHtml } from '../../viewer/html.js';
import { serializeSearch } from '../../viewer/serialize.js';
import { asUsage, intFlag, parseFlags, str, UsageError, withUsage, type CliIo } from '../flags.js';
import { reportKvLeaks } from '../kv-leaks.js';
import { stderrProgress } from '../progress.js';
import type { Command } from './types.js';
import { checkOutputDir } from '../output-paths.js';

/** The package's models folder (this file is lib/cli/commands/demo.ts or dist/cli/commands/demo.js). */
const SHIPPED_MODELS = fileURLToPath(new URL('../../../models/', import.meta.url));

/**
 * The grids: problems per level and budgets; and, for when no calibration table ships with the models,
 * the quick table fit on the spot (questions per level, difficulty levels). Sizes come from measuring
 * on 2 cores: a problem costs 425 generations over the small grid's strategies and budgets (about 50k
 * policy + PRM tokens), a calibration question 314 (2 + 4 candidates × (2 + 14 + 62)).
 */
const GRIDS = {
  small: { perLevel: 6, budgets: '1,4,16,64', calibrationPerLevel: 1, calibrationLevels: 2 },
  full: { perLevel: 40, budgets: '1,2,4,8,16,32,64', calibrationPerLevel: 20, calibrationLevels: 5 },
} as const;
type Grid = (typeof GRIDS)[keyof typeof GRIDS];

const STRATEGIES = ['majority', 'weighted-best-of-n', 'beam', 'dvts', 'compute-optimal'];
/** Showcase beam search: small enough that its whole tree fits on a screen. */
const SHOWCASE_BEAM = { n: 4, beamWidth: 2 } as const;
const SHOWCASE_LEVELS = [2, 3, 4];

const HELP = `Usage: thinktree demo [--full] [--out DIR] [--backend URL [--prm-model NAME]]

Runs the shipped policy and PRM (models/) on held-out arithmetic problems: a few problems solved by
greedy decoding and by beam search (their trees written as HTML pages), then accuracy vs budget per
level for majority, weighted best-of-N, beam search, DVTS and compute-optimal. The default grid
finishes in a few minutes on 2 cores.

Options:
  --full             the larger grid (${GRIDS.full.perLevel} problems per level, budgets ${GRIDS.full.budgets})
  --out DIR          output folder (default ./thinktree-demo-<timestamp>)
  --per-level N      problems per level (default ${GRIDS.small.perLevel}, --full ${GRIDS.full.perLevel})
  --budget N[,N...]  budgets (default ${GRIDS.small.budgets})
  --concurrency K    searches in flight at once (default 16)
  --models DIR       models folder with policy/, prm/, data/ (default: the package's)
  --threads N        kernel threads (default: all cores)
${backendFlagsHelp(21)}
                     (the demo's problems still come from --models; without --prm-backend or
                     --prm-model the PRM is the server's second model, as thinktree serve lists it)
  -h, --help         show this help
`;

const FLAGS = {
  full: { type: 'boolean' },
  out: { type: 'string' },
  'per-level': { type: 'string' },
  budget: { type: 'string' },
  concurrency: { type: 'string' },
  models: { type: 'string' },
  threads: { type: 'string' },
  ...BACKEND_FLAGS,
} as const;

interface DemoPaths {
  policy: string;
  prm: string;
  tests: string[];
  calibrationSet: string;
  table: string;
}

function demoPaths(models: string): DemoPaths {
  const data = path.join(models, 'data');
  return {
    policy: path.join(models, 'policy'),
    prm: path.join(models, 'prm'),
    tests: [1, 2, 3, 4, 5].map((l) => path.join(data, `test-level-${l}.jsonl.gz`)).filter((f) => existsSync(f)),
    calibrationSet: path.join(data, 'calibration.jsonl.gz'),
    table: path.join(models, 'calibration.json'),
  };
}

function checkPaths(p: DemoPaths): void {
  for (const [what, dir] of [['policy', p.policy], ['process reward model', p.prm]] as const) {
    if (!existsSync(path.join(dir, 'config.json'))) {
      throw new Error(`The demo needs the shipped ${what} in ${dir}, and it is missing (are the models still being trained?)`);
    }
  }
  if (p.tests.length === 0) throw new Error(`The demo needs held-out problems in ${path.dirname(p.calibrationSet)}/test-level-*.jsonl.gz; none found`);
}

const verdict = (right: boolean) => (right ? 'right' : 'wrong');

/** One problem: greedy vs beam search, with the beam's chosen path and tree. */
function showcase(record: EvalRecord, greedy: SearchResult, beam: SearchResult): string {
  const lines = [
    `Problem (level ${record.level}): ${record.problem}`,
    `Reference answer: ${record.answer}`,
    '',
    `  greedy decoding: answer ${greedy.answer ?? '(none)'}, ${verdict(isCorrect(mathTask, greedy, record.answer))}`,
    ...(greedy.completion?.steps ?? []).map((s) => `      ${oneLine(s, 70)}`),
    '',
    `  beam search (N=${SHOWCASE_BEAM.n}, M=${SHOWCASE_BEAM.beamWidth}): answer ${beam.answer ?? '(none)'}, ` +
      `${verdict(isCorrect(mathTask, beam, record.answer))}; chosen path with PRM step scores:`,
  ];
  const c = beam.completion;
  if (c) c.steps.forEach((s, i) => lines.push(`    ${c.stepScores[i]?.toFixed(3) ?? '  -  '}  ${oneLine(s, 70)}`));
  lines.push('', '  search tree (* chosen path, + kept, x pruned; PRM score):');
  lines.push(...renderTree(beam, { maxLines: 40 }).split('\n').map((l) => `    ${l}`), '');
  return lines.join('\n');
}

/** The shipped table when it fits these models; otherwise a quick one fit now (and said so). */
async function calibrationFor(engine: Engine | RemoteSearcher, p: DemoPaths, budgets: number[], grid: Grid, concurrency: number, io: CliIo): Promise<CalibrationTable | null> {
  if (existsSync(p.table)) {
    try {
      const table = await loadCalibration(p.table);
      checkCalibrationModels(table, engine.backend.info);
      io.stdout(`compute-optimal uses the shipped calibration table ${p.table}\n`);
      return table;
    } catch (err) {
      io.stdout(`The shipped calibration table cannot be used (${(err as Error).message}).\n`);
    }
  }
  const totals = budgets.filter((b) => b > EVAL_DEFAULTS.difficultySamples);
  if (totals.length === 0 || !existsSync(p.calibrationSet)) return null;
  const records = firstPerLevel(await loadDataset(p.calibrationSet), grid.calibrationPerLevel);
  const started = performance.now();
  const bar = stderrProgress(io, 'calibrate');
  const run = await runCalibration(engine, records, {
    budgets: totals,
    policyId: engine.backend.info.policyId!,
    prmId: engine.backend.info.prmId!,
    levels: grid.calibrationLevels,
    params: EVAL_SEARCH_PARAMS,
    concurrency,
    onProgress: (x) => bar.update(x.work / x.totalWork, `${x.done}/${x.total}`),
  });
  bar.finish();
  io.stdout(
    `No calibration table for these models in ${p.table}: fit a quick one (${grid.calibrationLevels} difficulty levels) ` +
      `on ${records.length} calibration questions in ${formatDuration(performance.now() - started)}; ` +
      `\`thinktree calibrate --out ${p.table}\` makes a better one.\n`,
  );
  return run.table;
}

async function runDemo(argv: string[], io: CliIo): Promise<number> {
  const v = parseFlags(argv, FLAGS);
  if (v.help) {
    io.stdout(HELP);
    return 0;
  }
  const grid = v.full ? GRIDS.full : GRIDS.small;
  const perLevel = intFlag('per-level', str(v, 'per-level'), grid.perLevel);
  const budgets = asUsage(() => parseBudgets(str(v, 'budget') ?? grid.budgets));
  const concurrency = intFlag('concurrency', str(v, 'concurrency'), 16);
  const threads = v.threads === undefined ? undefined : intFlag('threads', str(v, 'threads'), 1);
  const paths = demoPaths(path.resolve(str(v, 'models') ?? SHIPPED_MODELS));
  const remote = remoteFlags(v, ['threads']);
  const out = str(v, 'out');
  if (out !== undefined) checkOutputDir('out', out);
  if (remote === null) checkPaths(paths);
  else if (paths.tests.length === 0) throw new Error(`The demo needs held-out problems in ${path.dirname(paths.calibrationSet)}/test-level-*.jsonl.gz; none found`);
  const started = performance.now();
  const tests = await loadDatasets(paths.tests);

  const engineOptions = threads === undefined ? {} : { threads };
  const engine = remote
    ? await RemoteSearcher.connect(
        { ...remote, policyTokenizer: remote.policyTokenizer ?? (existsSync(path.join(paths.policy, 'tokenizer_config.json')) ? paths.policy : undefined) },
        { findPrm: true },
      )
    : await Engine.load(paths.policy, paths.prm, { policy: engineOptions, prm: engineOptions });
  try {
    const info = engine.backend.info;
    if (info.prmParams === 0) throw new UsageError(`The demo's beam searches need a PRM: give --prm-model NAME or --prm-backend URL`);
    const size = (params: number) => (params > 1 ? ` (${(params / 1e6).toFixed(2)}M parameters)` : '');
    io.stdout(
      `thinktree demo: policy ${info.policyId}${size(info.policyParams)}, PRM ${info.prmId}${size(info.prmParams)}` +
        (remote ? `, served at ${remote.url}\n\n` : `, loaded in ${formatDuration(performance.now() - started)}\n\n`),
    );

    // 1. A few problems, greedy vs beam search.
    const showStarted = performance.now();
    const picks = SHOWCASE_LEVELS.map((l) => tests.find((r) => r.level === l)).filter((r): r is EvalRecord => r !== undefined);
    const beamOptions = (seed: number) => ({ ...EVAL_SEARCH_PARAMS, strategy: 'beam' as const, ...SHOWCASE_BEAM, seed });
    const shown = await Promise.all(
      picks.map((r, i) =>
        Promise.all([
          engine.search(r.problem, { ...EVAL_SEARCH_PARAMS, strategy: 'majority', n: 1, temperature: 0, seed: i }),
          engine.search(r.problem, beamOptions(i)),
        ]),
      ),
    );
    picks.forEach((r, i) => io.stdout(`${showcase(r, shown[i]![0], shown[i]![1])}\n`));
    const dir = out ?? timestampedDir('thinktree-demo');
    await mkdir(dir, { recursive: true });
    const treePages = await Promise.all(
      picks.map(async (r, i) => {
        const json = serializeSearch(shown[i]![1], {
          question: r.problem,
          searchOptions: beamOptions(i),
          models: { policy: info.policyId ?? null, prm: info.prmId ?? null },
        });
        const name = `tree-level-${r.level}.html`;
        await writeFile(path.join(dir, name), searchHtml(json), 'utf8');
        return name;
      }),
    );
    io.stdout(`The showcase beam searches' trees, to open in a browser: ${treePages.map((f) => path.join(dir, f)).join(', ')}\n`);

    // 2. Accuracy vs budget per level.
    io.stdout(`(showcase: ${formatDuration(performance.now() - showStarted)})\n\n`);
    const calibration = await calibrationFor(engine, paths, budgets, grid, concurrency, io);
    const strategies = calibration === null ? STRATEGIES.filter((s) => s !== 'compute-optimal') : STRATEGIES;
    const plan = asUsage(() => buildPlan({ strategies, budgets, calibration, params: EVAL_SEARCH_PARAMS }));
    const records = firstPerLevel(tests, perLevel);
    io.stderr(`${records.length} problems × ${plan.configs.length} configurations, ${concurrency} in flight\n`);
    const bar = stderrProgress(io, 'demo');
    const runStarted = performance.now();
    const results = await runEval(engine, records, {
      configs: plan.configs,
      concurrency,
      params: EVAL_SEARCH_PARAMS,
      calibration,
      onProgress: (x) => bar.update(x.work / x.totalWork, `${x.done}/${x.total} · ${x.last.strategy} N=${x.last.budget}`),
    });
    bar.finish();
    if (engine instanceof Engine) reportKvLeaks(engine, io);
    const report = buildReport(results, {
      title: 'thinktree demo: accuracy vs budget',
      skipped: plan.skipped,
      notes: [
        `${records.length} held-out problems (${perLevel} per level); temperature ${EVAL_SEARCH_PARAMS.temperature}; ${EVAL_SEARCH_PARAMS.aggregation} step-score aggregation; beam width min(4, N)`,
        `compute-optimal: ${calibration === null ? 'not run (no calibration set)' : `difficulty from ${calibration.difficultySamples} samples, counted in N and kept among the candidates`}`,
        costLine(results, performance.now() - runStarted),
      ],
    });
    await writeEvalOutputs(dir, { rows: report.rows, results, markdown: report.markdown, svg: report.svg });
    io.stdout(`\n${report.markdown}\n`);
    io.stdout(`Wrote results.md, accuracy.svg, results.json and ${treePages.join(', ')} to ${dir}\n`);
    io.stdout(`Demo finished in ${formatDuration(performance.now() - started)}\n`);
    return 0;
  } finally {
    engine.dispose();
  }
}

export const demoCommand: Command = {
  summary: 'the shipped models on held-out problems: search trees, accuracy vs budget per level',
  run: (argv, io) => withUsage('demo', HELP, io, () => runDemo(argv, io)),
};
