import type { BackendModelInfo } from '../backends/types.js';
import { OptionError } from '../errors.js';
import { AGGREGATIONS, isAggregation, type Aggregation } from './aggregate.js';
import type { CalibrationTable } from './calibration-table.js';
import { DEFAULTS } from './defaults.js';
import type { Task } from '../tasks/task.js';
import { mathTask } from '../tasks/math/task.js';
import { checkStrategyName, type RevisionSelect, type StrategyName, type StrategyParams } from './params.js';
import type { ProgressEvent, SearchOptions } from './types.js';
import { checkOptionKeys, optionKeys } from '../util/options.js';

/** Strategy parameters with every default filled in. */
export interface ResolvedParams {
  strategy: StrategyName;
  n: number;
  beamWidth: number;
  aggregation: Aggregation;
  temperature: number;
  topP: number;
  topK: number;
  maxIterations: number;
  maxStepTokens: number;
  maxSolutionTokens: number;
  lookahead: number;
  filterDuplicates: boolean;
  sortCompleted: boolean;
  expansionWidth: number;
  cBase: number;
  cInit: number;
  revisionsPerChain: number;
  revisionSelect: RevisionSelect;
}

/** Everything a search runs with: parameters plus the search-wide settings. */
export interface ResolvedOptions extends ResolvedParams {
  tokenCap: number;
  calibration: CalibrationTable | null;
  seed: number;
  task: Task;
  signal: AbortSignal | undefined;
  onProgress: ((event: ProgressEvent) => void) | undefined;
  /** The parameters as the caller gave them (a nested strategy resolves its own defaults from these). */
  given: Partial<StrategyParams>;
}

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new OptionError(`Expected \`${name}\` to be a positive integer, got ${String(v)}`);
  }
  return v;
}

function nonNegativeInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new OptionError(`Expected \`${name}\` to be a non-negative integer, got ${String(v)}`);
  }
  return v;
}

/** A positive integer, or Infinity (no limit). */
function limit(name: string, v: unknown): number {
  if (v === Number.POSITIVE_INFINITY) return v;
  return positiveInt(name, v);
}

function finiteIn(name: string, v: unknown, lo: number, hi: number, loOpen = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v > hi || v < lo || (loOpen && v === lo)) {
    throw new OptionError(`Expected \`${name}\` in ${loOpen ? '(' : '['}${lo}, ${hi}], got ${String(v)}`);
  }
  return v;
}

function bool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new OptionError(`Expected \`${name}\` to be a boolean, got ${String(v)}`);
  return v;
}

/** The largest divisor of n that is at most `max`. */
function largestDivisorUpTo(n: number, max: number): number {
  for (let d = Math.min(n, max); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

/**
 * Fills defaults and checks every parameter the strategy reads, with the sentence a user needs.
 * Throws OptionError; touches nothing.
 */
export function resolveParams(strategy: StrategyName, input: Partial<StrategyParams>): ResolvedParams {
  const n = positiveInt('n', input.n);
  const aggregation = input.aggregation ?? DEFAULTS.aggregation;
  if (!isAggregation(aggregation)) {
    throw new OptionError(`Unknown aggregation \`${String(aggregation)}\`; expected one of ${AGGREGATIONS.join(', ')}`);
  }
  const beamWidth = positiveInt('beamWidth', input.beamWidth ?? DEFAULTS.beamWidth);
  const lookahead = nonNegativeInt(
    'lookahead',
    input.lookahead ?? (strategy === 'lookahead' ? DEFAULTS.lookaheadSteps : DEFAULTS.lookahead),
  );
  if (strategy === 'lookahead' && lookahead < 1) {
    throw new OptionError(`Expected \`lookahead\` to be at least 1 for the lookahead strategy, got ${lookahead}`);
  }
  if ((strategy === 'beam' || strategy === 'lookahead' || strategy === 'dvts') && n % beamWidth !== 0) {
    throw new OptionError(`Expected \`beamWidth\` to divide \`n\`, got n=${n}, beamWidth=${beamWidth}`);
  }
  const revisionsPerChain = positiveInt(
    'revisionsPerChain',
    input.revisionsPerChain ?? largestDivisorUpTo(n, DEFAULTS.maxRevisionsPerChain),
  );
  if (strategy === 'revisions' && n % revisionsPerChain !== 0) {
    throw new OptionError(
      `Expected \`revisionsPerChain\` to divide \`n\`, got n=${n}, revisionsPerChain=${revisionsPerChain}`,
    );
  }
  const revisionSelect = input.revisionSelect ?? DEFAULTS.revisionSelect;
  if (!['weighted', 'best', 'majority'].includes(revisionSelect)) {
    throw new OptionError(`Unknown revisionSelect \`${String(revisionSelect)}\`; expected one of weighted, best, majority`);
  }
  return {
    strategy,
    n,
    beamWidth,
    aggregation,
    temperature: finiteIn('temperature', input.temperature ?? DEFAULTS.temperature, 0, 100),
    topP: finiteIn('topP', input.topP ?? DEFAULTS.topP, 0, 1, true),
    topK: nonNegativeInt('topK', input.topK ?? DEFAULTS.topK),
    maxIterations: positiveInt('maxIterations', input.maxIterations ?? DEFAULTS.maxIterations),
    maxStepTokens: positiveInt('maxStepTokens', input.maxStepTokens ?? DEFAULTS.maxStepTokens),
    maxSolutionTokens: limit('maxSolutionTokens', input.maxSolutionTokens ?? DEFAULTS.maxSolutionTokens),
    lookahead,
    filterDuplicates: bool('filterDuplicates', input.filterDuplicates ?? DEFAULTS.filterDuplicates),
    sortCompleted: bool('sortCompleted', input.sortCompleted ?? DEFAULTS.sortCompleted),
    expansionWidth: positiveInt('expansionWidth', input.expansionWidth ?? DEFAULTS.expansionWidth),
    cBase: finiteIn('cBase', input.cBase ?? DEFAULTS.cBase, 0, Number.MAX_VALUE, true),
    cInit: finiteIn('cInit', input.cInit ?? DEFAULTS.cInit, 0, Number.MAX_VALUE),
    revisionsPerChain,
    revisionSelect,
  };
}

/** Whether a backend scores steps: it reports a PRM parameter count (see BackendModelInfo). */
export function backendHasPrm(info: BackendModelInfo): boolean {
  return info.prmParams > 0;
}

/** Every strategy parameter's key (StrategyParams' fields other than the strategy's name). */
export const PARAM_KEYS = [
  'n',
  'beamWidth',
  'aggregation',
  'temperature',
  'topP',
  'topK',
  'maxIterations',
  'maxStepTokens',
  'maxSolutionTokens',
  'lookahead',
  'filterDuplicates',
  'sortCompleted',
  'expansionWidth',
  'cBase',
  'cInit',
  'revisionsPerChain',
  'revisionSelect',
] as const satisfies readonly (keyof StrategyParams)[];

/** The strategy parameters present in an options object. */
export function pickParams(input: Partial<StrategyParams>): Partial<StrategyParams> {
  const out: Record<string, unknown> = {};
  for (const k of PARAM_KEYS) if (input[k] !== undefined) out[k] = input[k];
  return out as Partial<StrategyParams>;
}

/** Every key a search takes (the compiler checks the list against SearchOptions). */
export const SEARCH_OPTION_KEYS = optionKeys<SearchOptions>()([
  ...PARAM_KEYS,
  'backend',
  'strategy',
  'tokenCap',
  'calibration',
  'seed',
  'signal',
  'onProgress',
  'task',
]);

export function resolveOptions(input: SearchOptions): ResolvedOptions {
  if (typeof input !== 'object' || input === null) throw new OptionError('Expected an options object');
  checkOptionKeys(input, SEARCH_OPTION_KEYS, 'the search options');
  const strategy = checkStrategyName(input.strategy);
  if (input.backend === undefined || input.backend === null) {
    throw new OptionError('Expected `backend` (a SearchBackend) in the search options');
  }
  const params = resolveParams(strategy, input);
  const tokenCap = limit('tokenCap', input.tokenCap ?? Number.POSITIVE_INFINITY);
  const seed = input.seed ?? DEFAULTS.seed;
  if (!Number.isSafeInteger(seed)) throw new OptionError(`Expected \`seed\` to be an integer, got ${String(seed)}`);
  if (input.onProgress !== undefined && typeof input.onProgress !== 'function') {
    throw new OptionError('Expected `onProgress` to be a function');
  }
  return {
    ...params,
    tokenCap,
    calibration: input.calibration ?? null,
    seed,
    task: input.task ?? mathTask,
    signal: input.signal,
    onProgress: input.onProgress,
    given: pickParams(input),
  };
}
