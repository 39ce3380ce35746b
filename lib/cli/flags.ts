/**
 * The one flag parser of every `thinktree` command. Every command takes `-h`/`--help`; a mistake in the
 * flags is a UsageError: the command prints the sentence (with "did you mean" for a near miss) and its
 * help, and exits with 2 before any model is loaded.
 */

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { OptionError } from '../errors.js';
import type { CommandIo } from './commands/types.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export type CliIo = CommandIo;

export type FlagSpecs = NonNullable<ParseArgsConfig['options']>;

/** Parsed flags: strings, booleans, and string lists for `multiple` flags. */
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** `-h, --help`, which every command takes. */
const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const satisfies FlagSpecs;

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name nearest to `name`, if it is near enough to be a slip (a third of its letters at most). */
export function nearest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const dist = editDistance(name, k);
    if (dist < bestDistance) {
      best = k;
      bestDistance = dist;
    }
  }
  return best;
}

/** `; did you mean X?` for the nearest known name, or nothing. */
export function didYouMean(name: string, known: readonly string[], quote: (k: string) => string = (k) => `'${k}'`): string {
  const near = nearest(name, known);
  return near === undefined ? '' : `; did you mean ${quote(near)}?`;
}

/** What parseArgs said, as a sentence that names the flag (and the flag meant, for a near miss). */
function usageError(e: Error & { code?: string }, options: FlagSpecs): UsageError {
  const flag = /'(-{1,2}[^' =]+)/.exec(e.message)?.[1] ?? '';
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const hint = flag.startsWith('--') ? didYouMean(flag.slice(2), Object.keys(options), (k) => `--${k}`) : '';
      return new UsageError(`Unknown flag ${flag}`.trim() + hint);
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (flag === '') return new UsageError(e.message);
      return new UsageError(
        e.message.includes('ambiguous')
          ? `Missing value for ${flag} (the next argument starts with '-'; write ${flag}=VALUE to pass such a value)`
          : `Missing value for ${flag}`,
      );
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`Unexpected argument ${/'([^']*)'/.exec(e.message)?.[1] ?? ''}; every option is a --flag`.replace(' ;', ';'));
    default:
      return new UsageError(e.message);
  }
}

/** Flags and positional arguments; `-h`/`--help` is added to `options`. Mistakes are UsageErrors. */
export function parseCommandLine(
  argv: string[],
  options: FlagSpecs,
  { positionals = false }: { positionals?: boolean } = {},
): { values: FlagValues; positionals: string[] } {
  const all = { ...options, ...HELP_FLAG };
  try {
    const parsed = parseArgs({ args: argv, options: all, strict: true, allowPositionals: positionals });
    return { values: parsed.values as FlagValues, positionals: parsed.positionals };
  } catch (error) {
    throw usageError(error as Error & { code?: string }, all);
  }
}

/** The flags of a command that takes no positional arguments. */
export function parseFlags(argv: string[], options: FlagSpecs): FlagValues {
  return parseCommandLine(argv, options).values;
}

/** A string flag's value (undefined when absent); an empty value is a mistake. */
export function str(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${name} expects a value`);
  if (v.trim() === '') throw new UsageError(`--${name} needs a non-empty value`);
  return v;
}

/** A repeatable string flag's values. */
export function strs(values: FlagValues, name: string): string[] {
  const v = values[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** An integer flag in [min, max]; `fallback` when absent. */
export function intFlag(name: string, value: string | undefined, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in ${min}..${max}`;
    throw new UsageError(`--${name} must be ${range}, got '${value}'`);
  }
  return n;
}

/** A finite number flag in [min, max]; `fallback` when absent. */
export function numberFlag(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number in [${min}, ${max}], got '${value}'`);
  return n;
}

/** A repeatable, comma-separated list flag (`--data a.jsonl,b.jsonl --data c.jsonl`). */
export function listFlag(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** Runs `body`; an OptionError from a library check counts as a usage mistake too. */
export function asUsage<T>(body: () => T): T {
  try {
    return body();
  } catch (err) {
    if (err instanceof OptionError) throw new UsageError(err.message);
    throw err;
  }
}

/** Runs a command body, printing a UsageError with the help and returning 2. */
export async function withUsage(command: string, help: string, io: CliIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`thinktree ${command}: ${err.message}\n\n${help}`);
    return 2;
  }
}
