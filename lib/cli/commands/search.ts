/**
 * `thinktree search "question"`: one question through one search strategy, by default with the shipped
 * demo models and the CLI's search settings. Prints the answer, the chosen path with its step scores,
 * the vote, a compact tree and the usage (with a live progress line on a terminal); `--json` writes the whole search (search-tree v1 format),
 * `--html` a self-contained page that draws the tree.
 */

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { demoModels } from '../../demo-models.js';
import { Engine } from '../../engine/engine.js';
import { loadCalibration } from '../../eval/calibration-file.js';
import { EVAL_DEFAULTS } from '../../eval/defaults.js';
import { checkCalibrationModels, type CalibrationTable } from '../../search/calibration-table.js';
import { resolveParams } from '../../search/options.js';
import { isStrategyName, STRATEGY_NAMES, type StrategyName } from '../../search/params.js';
import { STRATEGIES } from '../../search/registry.js';
import type { ProgressEvent, SearchOptions } from '../../search/types.js';
import { searchHtml } from '../../viewer/html.js';
import { checkWritableFile } from '../output-paths.js';
import { searchJsonText, serializeSearch } from '../../viewer/serialize.js';
import { searchText } from '../../viewer/text.js';
import { asUsage, didYouMean, intFlag, parseCommandLine, str, UsageError, withUsage, type CliIo } from '../flags.js';
import { SEARCH_FLAGS, searchFlagsHelp, searchParams } from '../search-flags.js';
import { BACKEND_FLAGS, backendFlagsHelp, remoteFlags, remoteHasPrm, RemoteSearcher, type RemoteFlags } from '../backend-flags.js';
import type { Command } from './types.js';

const DEFAULTS = { strategy: 'beam' as StrategyName, n: 16, beamWidth: 4 } as const;

const HELP = `Usage: thinktree search [options] QUESTION

Answers QUESTION with a test-time search: the policy proposes steps, the process reward model (PRM)
scores them, the strategy decides which to extend. Prints the answer, the chosen path with each step's
PRM score, the vote over the candidates, the search tree and the compute used. Without --model and
--prm it runs the shipped demo models (models/: arithmetic word problems).

Options:
  --model DIR          policy model directory (default: the shipped models/policy)
  --prm DIR            process reward model directory (default: the shipped models/prm without --model,
                       none with it: then only majority runs)
${backendFlagsHelp(23)}
  --strategy S         ${STRATEGY_NAMES.join(', ')} (default ${DEFAULTS.strategy})
  --n N                budget: beams, samples or simulations (default ${DEFAULTS.n})
  --beam-width M       M of beam, lookahead and DVTS; must divide N (default min(${DEFAULTS.beamWidth}, N))
  --seed S             random seed (default ${EVAL_DEFAULTS.seed})
${searchFlagsHelp(23)}
  --calibration FILE   calibration table for compute-optimal (default: the shipped models/calibration.json)
  --json FILE          write the whole search as JSON (format: schema/search-tree.v1.schema.json)
  --html FILE          write a self-contained HTML page that draws the tree (opens from disk)
  --tree-lines N       most lines of the printed tree (default 40)
  --threads N          kernel threads (default: all cores)
  -h, --help           show this help
`;

const FLAGS = {
  model: { type: 'string' },
  prm: { type: 'string' },
  strategy: { type: 'string' },
  n: { type: 'string' },
  'beam-width': { type: 'string' },
  seed: { type: 'string' },
  ...SEARCH_FLAGS,
  calibration: { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
  'tree-lines': { type: 'string' },
  threads: { type: 'string' },
  ...BACKEND_FLAGS,
} as const;

export interface SearchFlags {
  question: string;
  model: string;
  /** Null: no PRM (a --model of one's own without --prm). */
  prm: string | null;
  /** The servers, with --backend (model and prm are then unused); null for local models. */
  remote: RemoteFlags | null;
  /** The search options, backend aside. */
  search: Omit<SearchOptions, 'backend'> & { aggregation: NonNullable<SearchOptions['aggregation']> };
  calibration: string | undefined;
  json: string | undefined;
  html: string | undefined;
  treeLines: number;
  threads: number | undefined;
}


/** Checks every flag and the output paths (UsageError); loads nothing. */
export function parseSearchFlags(argv: string[]): SearchFlags | 'help' {
  const { values: v, positionals } = parseCommandLine(argv, FLAGS, { positionals: true });
  if (v.help) return 'help';
  if (positionals.length !== 1) throw new UsageError(`Expected one QUESTION argument, got ${positionals.length}`);
  const question = positionals[0]!;
  if (question.trim() === '') throw new UsageError('The QUESTION is empty');
  const strategy = str(v, 'strategy') ?? DEFAULTS.strategy;
  if (!isStrategyName(strategy)) {
    throw new UsageError(`--strategy must be one of ${STRATEGY_NAMES.join(', ')}, got '${strategy}'${didYouMean(strategy, STRATEGY_NAMES)}`);
  }
  const n = intFlag('n', str(v, 'n'), DEFAULTS.n);
  const beamWidth = intFlag('beam-width', str(v, 'beam-width'), Math.min(DEFAULTS.beamWidth, n));
  const params = searchParams(v);
  const resolved = asUsage(() => resolveParams(strategy, { ...params, n, beamWidth }));
  const remote = remoteFlags(v, ['model', 'prm', 'threads']);
  const model = str(v, 'model');
  const prm = str(v, 'prm') ?? (model === undefined ? demoModels.prm : null);
  const hasPrm = remote === null ? prm !== null : remoteHasPrm(remote);
  if (!hasPrm && STRATEGIES.get(strategy)!.needsPrm(resolved)) {
    const give = remote === null ? 'give --prm DIR' : 'give --prm-model NAME or --prm-backend URL';
    throw new UsageError(`--strategy ${strategy} scores steps with a process reward model: ${give} (or --strategy majority)`);
  }
  const json = str(v, 'json');
  const html = str(v, 'html');
  if (json !== undefined) checkWritableFile('json', json);
  if (html !== undefined) checkWritableFile('html', html);
  return {
    question,
    model: path.resolve(model ?? demoModels.policy),
    prm: prm === null ? null : path.resolve(prm),
    remote,
    search: {
      ...params,
      aggregation: params.aggregation ?? EVAL_DEFAULTS.aggregation,
      strategy,
      n,
      beamWidth,
      seed: intFlag('seed', str(v, 'seed'), EVAL_DEFAULTS.seed, 0),
    },
    calibration: str(v, 'calibration'),
    json,
    html,
    treeLines: intFlag('tree-lines', str(v, 'tree-lines'), 40),
    threads: v.threads === undefined ? undefined : intFlag('threads', str(v, 'threads'), 1, 1, 1024),
  };
}

/** compute-optimal's table: --calibration, else the shipped one next to the default models. */
async function calibrationFor(flags: SearchFlags, engine: Engine | RemoteSearcher): Promise<CalibrationTable | undefined> {
  if (flags.search.strategy !== 'compute-optimal') return undefined;
  const file = flags.calibration ?? demoModels.calibration;
  if (!existsSync(file)) throw new UsageError(`compute-optimal needs a calibration table (--calibration FILE); ${file} does not exist`);
  const table = await loadCalibration(file);
  checkCalibrationModels(table, engine.backend.info);
  return table;
}

/** The live progress line: steps generated, paths still open, tokens and speed. */
export function progressLine(p: ProgressEvent): string {
  return (
    `searching: ${p.stepsDone} step${p.stepsDone === 1 ? '' : 's'} generated, ${p.openPaths} path${p.openPaths === 1 ? '' : 's'} open, ` +
    `${p.policyTokensGenerated} tokens (${Math.round(p.tokensPerSecond)} tokens/s, ${(p.elapsedMs / 1000).toFixed(1)} s)`
  );
}

/** A line redrawn in place (at most every `redrawMs`) on a terminal and wiped at the end; nothing elsewhere. */
export function liveLine(write: (s: string) => void, isTTY: boolean, redrawMs = 100): { update: (text: string) => void; finish: () => void } {
  if (!isTTY) return { update: () => {}, finish: () => {} };
  let last = -Infinity;
  let length = 0;
  return {
    update(text) {
      const now = performance.now();
      if (now - last < redrawMs) return;
      last = now;
      write(`\r${text.padEnd(length)}`);
      length = text.length;
    },
    finish() {
      if (length > 0) write(`\r${' '.repeat(length)}\r`);
    },
  };
}

async function runSearch(argv: string[], io: CliIo): Promise<number> {
  const flags = parseSearchFlags(argv);
  if (flags === 'help') {
    io.stdout(HELP);
    return 0;
  }
  for (const [what, dir] of [['policy', flags.model], ['process reward model', flags.prm]] as const) {
    if (flags.remote === null && dir !== null && !existsSync(path.join(dir, 'config.json'))) throw new UsageError(`No ${what} in ${dir} (config.json is missing)`);
  }
  const engineOptions = flags.threads === undefined ? {} : { threads: flags.threads };
  const engine = flags.remote
    ? await RemoteSearcher.connect(flags.remote)
    : await Engine.load(flags.model, flags.prm ?? undefined, { policy: engineOptions, prm: engineOptions });
  try {
    const calibration = await calibrationFor(flags, engine);
    const info = engine.backend.info;
    const s = flags.search;
    io.stderr(`thinktree search: ${s.strategy}, N=${s.n}, M=${s.beamWidth}, policy ${info.policyId}, PRM ${info.prmId ?? '(none)'}\n`);
    const live = liveLine(io.stderr, process.stderr.isTTY === true);
    const result = await engine
      .search(flags.question, {
        ...s,
        ...(calibration === undefined ? {} : { calibration }),
        onProgress: (p) => live.update(progressLine(p)),
      })
      .finally(() => live.finish());
    const json = serializeSearch(result, {
      question: flags.question,
      searchOptions: s,
      models: { policy: info.policyId ?? null, prm: info.prmId ?? null },
    });
    io.stdout(searchText(result, json, { treeLines: flags.treeLines }));
    const wrote: string[] = [];
    if (flags.json !== undefined) {
      await writeFile(flags.json, searchJsonText(json), 'utf8');
      wrote.push(flags.json);
    }
    if (flags.html !== undefined) {
      await writeFile(flags.html, searchHtml(json), 'utf8');
      wrote.push(flags.html);
    }
    if (wrote.length > 0) io.stdout(`Wrote ${wrote.join(' and ')}\n`);
    return 0;
  } finally {
    engine.dispose();
  }
}

export const searchCommand: Command = {
  summary: 'answer one question with a search; print the chosen path and tree, write JSON and an HTML tree viewer',
  run: (argv, io) => withUsage('search', HELP, io, () => runSearch(argv, io)),
};
