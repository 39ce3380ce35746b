/**
 * `thinktree data gen`: writes a split of the arithmetic task as JSONL (one MATH-500 style record a
 * line) to a file or to stdout. Flags are validated before anything is generated, and every mistake
 * gets a sentence that names the flag.
 */

import { open } from 'node:fs/promises';
import { didYouMean, parseFlags, UsageError } from '../flags.js';
import { isLevel, isSplitName, recordLine, splitStream, toRecord, type SplitName } from '../../tasks/arithmetic/index.js';
import { checkWritableFile } from '../output-paths.js';

/** Same shape as the CLI's CommandIo; stderr falls back to the process's own. */
export interface DataIo {
  stdout: (s: string) => void;
  stderr?: (s: string) => void;
}

const GEN_HELP = `Usage: thinktree data gen --seed S --n N --level L [--split train|calibration|test] [--out FILE]

Generates arithmetic word problems with reference solutions as JSONL.

Options:
  --seed S       PRNG seed, a non-negative integer (same seed, same data)
  --n N          number of distinct problems, a positive integer
  --level L      difficulty, 1 (1-2 small operations) to 5 (5-7 operations, hundreds)
  --split NAME   train, calibration or test (default train); splits never share a problem
  --out FILE     write to FILE instead of stdout
  -h, --help     show this help
`;

const DATA_HELP = `Usage: thinktree data <subcommand> [options]

Subcommands:
  gen    generate arithmetic word problems as JSONL (thinktree data gen --help)
`;

const SUBCOMMANDS = ['gen'] as const;

/** Lines per write: large enough to keep write calls few, small enough to keep memory flat. */
const LINES_PER_WRITE = 1000;
const MAX_N = 10_000_000;
const MAX_SEED = (1n << 64n) - 1n;

interface GenFlags {
  seed: bigint;
  n: number;
  level: 1 | 2 | 3 | 4 | 5;
  split: SplitName;
  out: string | undefined;
}

const GEN_FLAGS = {
  seed: { type: 'string' },
  n: { type: 'string' },
  level: { type: 'string' },
  split: { type: 'string' },
  out: { type: 'string' },
} as const;

function parseGenFlags(argv: string[]): GenFlags | 'help' {
  const v = parseFlags(argv, GEN_FLAGS) as { [K in keyof typeof GEN_FLAGS]?: string } & { help?: boolean };
  if (v.help) return 'help';
  for (const name of ['seed', 'n', 'level'] as const) {
    if (v[name] === undefined) throw new UsageError(`Missing required flag --${name}`);
  }
  const seedText = v.seed as string;
  if (!/^\d+$/.test(seedText) || BigInt(seedText) > MAX_SEED) {
    throw new UsageError(`--seed must be a non-negative integer below 2^64, got '${seedText}'`);
  }
  const nText = v.n as string;
  if (!/^\d+$/.test(nText) || Number(nText) < 1 || Number(nText) > MAX_N) {
    throw new UsageError(`--n must be a positive integer (at most ${MAX_N}), got '${nText}'`);
  }
  const levelText = v.level as string;
  const level = /^\d$/.test(levelText) ? Number(levelText) : NaN;
  if (!isLevel(level)) throw new UsageError(`--level must be an integer from 1 to 5, got '${levelText}'`);
  const split = v.split ?? 'train';
  if (!isSplitName(split)) throw new UsageError(`--split must be train, calibration or test, got '${split}'`);
  if (v.out !== undefined) checkWritableFile('out', v.out);
  return { seed: BigInt(seedText), n: Number(nText), level, split, out: v.out };
}

/**
 * Runs `thinktree data gen` with the arguments after `gen`. Returns the exit code: 0 done, 1 the
 * request could not be met (file not writable, level too small for n), 2 bad flags.
 */
export async function runDataGen(argv: string[], io: DataIo): Promise<number> {
  const stderr = io.stderr ?? ((s: string) => void process.stderr.write(s));
  let flags: GenFlags | 'help';
  try {
    flags = parseGenFlags(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr(`thinktree data gen: ${error.message}\n\n${GEN_HELP}`);
    return 2;
  }
  if (flags === 'help') {
    io.stdout(GEN_HELP);
    return 0;
  }
  const { seed, n, level, split, out } = flags;
  const lines = (function* () {
    for (const problem of splitStream({ seed, n, level, split })) yield recordLine(toRecord(problem, split));
  })();
  try {
    if (out === undefined) {
      await writeChunks(lines, async (chunk) => io.stdout(chunk));
    } else {
      const file = await open(out, 'w');
      try {
        await writeChunks(lines, async (chunk) => void (await file.write(chunk)));
      } finally {
        await file.close();
      }
      io.stdout(`Wrote ${n} level-${level} ${split} problems to ${out}\n`);
    }
  } catch (error) {
    stderr(`thinktree data gen: ${(error as Error).message}\n`);
    return 1;
  }
  return 0;
}

async function writeChunks(lines: Iterable<string>, write: (chunk: string) => Promise<void>): Promise<void> {
  let batch: string[] = [];
  for (const line of lines) {
    batch.push(line);
    if (batch.length === LINES_PER_WRITE) {
      await write(batch.join(''));
      batch = [];
    }
  }
  if (batch.length > 0) await write(batch.join(''));
}

/** `thinktree data <subcommand>`; today the only subcommand is `gen`. */
export async function runData(argv: string[], io: DataIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'gen') return runDataGen(rest, io);
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout(DATA_HELP);
    return sub === undefined ? 2 : 0;
  }
  (io.stderr ?? ((s: string) => void process.stderr.write(s)))(
    `thinktree data: unknown subcommand '${sub}'${didYouMean(sub, SUBCOMMANDS)}\n\n${DATA_HELP}`,
  );
  return 2;
}

/** Matches the CLI's Command shape (lib/cli/commands/types.ts) for registration in the command map. */
export const dataCommand = {
  summary: 'generate data sets (data gen: arithmetic word problems as JSONL)',
  run: runData,
};
