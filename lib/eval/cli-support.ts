/**
 * Flag parsing and progress reporting shared by the `eval`, `calibrate` and `demo` commands. Mistakes
 * in flags are UsageErrors: the command prints the sentence and its help, and exits with 2 before any
 * model is loaded.
 */

import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Engine } from '../engine/engine.js';
import { OptionError } from '../errors.js';
import { AGGREGATIONS, isAggregation } from '../search/aggregate.js';
import type { StrategyParams } from '../search/types.js';
import { EVAL_DEFAULTS } from './defaults.js';
import { ProgressBar } from './progress.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parsed flags: strings, booleans, and string lists for `multiple` flags. */
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** parseArgs with its internal messages turned into sentences that name the flag. */
export function parseFlags(argv: string[], options: Options): FlagValues {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as FlagValues;
  } catch (error) {
    const e = error as Error & { code?: string };
    const flag = /'(-{1,2}[^' ]+)/.exec(e.message)?.[1] ?? '';
    switch (e.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw new UsageError(`Unknown flag ${flag}`.trim());
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
        throw new UsageError(e.message.includes('ambiguous') ? `Missing value for ${flag} (write ${flag}=VALUE for a value starting with '-')` : `Missing value for ${flag}`);
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
        throw new UsageError(`Unexpected argument ${/'([^']*)'/.exec(e.message)?.[1] ?? ''}; every option is a --flag`);
      default:
        throw new UsageError(e.message);
    }
  }
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

/** The sampling and scoring flags eval and calibrate share, so a table is fit as it will be used. */
export const SEARCH_FLAGS = {
  temperature: { type: 'string' },
  'max-step-tokens': { type: 'string' },
  'max-iterations': { type: 'string' },
  aggregation: { type: 'string' },
} as const;

/** SEARCH_FLAGS' help lines, the descriptions starting at column `column`. */
export function searchFlagsHelp(column: number): string {
  const line = (flag: string, text: string) => `  ${flag}`.padEnd(column) + text;
  return [
    line('--temperature T', `sampling temperature (default ${EVAL_DEFAULTS.temperature})`),
    line('--max-step-tokens N', `most tokens per step (default ${EVAL_DEFAULTS.maxStepTokens})`),
    line('--max-iterations N', `most steps per solution (default ${EVAL_DEFAULTS.maxIterations})`),
    line('--aggregation A', `a path's value from its step scores: ${AGGREGATIONS.join(', ')} (default ${EVAL_DEFAULTS.aggregation})`),
  ].join('\n');
}

/** The search parameters SEARCH_FLAGS set. */
export function searchParams(values: FlagValues): Partial<StrategyParams> {
  const aggregation = str(values, 'aggregation') ?? EVAL_DEFAULTS.aggregation;
  if (!isAggregation(aggregation)) throw new UsageError(`--aggregation must be one of ${AGGREGATIONS.join(', ')}, got '${aggregation}'`);
  return {
    temperature: numberFlag('temperature', str(values, 'temperature'), EVAL_DEFAULTS.temperature, 0, 100),
    maxStepTokens: intFlag('max-step-tokens', str(values, 'max-step-tokens'), EVAL_DEFAULTS.maxStepTokens),
    maxIterations: intFlag('max-iterations', str(values, 'max-iterations'), EVAL_DEFAULTS.maxIterations),
    aggregation,
  };
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

/** A progress bar on stderr (redrawn in place on a terminal, plain lines otherwise). */
export function stderrProgress(io: CliIo, label: string): ProgressBar {
  return new ProgressBar({ write: io.stderr, isTTY: process.stderr.isTTY === true, label });
}

/** Warns when searches left KV pages behind: every page must be back once all searches have ended. */
export function reportKvLeaks(engine: Engine, io: CliIo): void {
  const kv = engine.kvStats();
  for (const [name, s] of [['policy', kv.policy], ['prm', kv.prm]] as const) {
    if (s !== null && s.pagesFree !== s.pagesTotal) {
      io.stderr(`warning: ${s.pagesTotal - s.pagesFree} ${name} KV pages still in use after every search ended\n`);
    }
  }
}
