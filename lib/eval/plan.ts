/**
 * What an evaluation runs: one configuration per (strategy, budget), plus greedy decoding as the
 * baseline. Every configuration is checked here, before any model is loaded, so a bad flag costs
 * nothing.
 */

import { OptionError } from '../errors.js';
import { budgetFor, type CalibrationTable } from '../search/calibration-table.js';
import { DEFAULTS } from '../search/defaults.js';
import { resolveParams } from '../search/options.js';
import { isStrategyName } from '../search/params.js';
import { STRATEGIES } from '../search/registry.js';
import { STRATEGY_NAMES, type StrategyName, type StrategyParams } from '../search/types.js';

/** Greedy decoding: one sample at temperature 0 (majority with n = 1), reported at budget 1. */
export const GREEDY = 'greedy';

/** Names an evaluation accepts: every search strategy plus `greedy`. */
export const EVAL_STRATEGIES: readonly string[] = [GREEDY, ...STRATEGY_NAMES];

/** Strategies that split `n` into groups of `beamWidth`. */
const GROUPED: readonly StrategyName[] = ['beam', 'lookahead', 'dvts'];

export interface EvalConfig {
  /** The row name in results: the strategy, or `greedy`. */
  label: string;
  strategy: StrategyName;
  /**
   * Generations the configuration spends: the strategy's `n` (for compute-optimal the total, difficulty
   * samples included; for lookahead n·(k + 1), rollouts included).
   */
  budget: number;
  /** Parameters this configuration fixes; the evaluation's shared parameters fill in the rest. */
  params: Partial<StrategyParams>;
}

export interface SkippedConfig {
  label: string;
  budget: number;
  reason: string;
}

export interface PlanInput {
  /** Names from EVAL_STRATEGIES; `greedy` is added first unless `greedy` is false. */
  strategies: readonly string[];
  budgets: readonly number[];
  /**
   * M for beam, lookahead and DVTS; every budget must be a multiple of it.
   * @default min(4, budget), so that budgets 1 and 2 run with M = budget
   */
  beamWidth?: number;
  /** @default true */
  greedy?: boolean;
  /** Needed by compute-optimal; budgets it cannot serve are skipped, not refused. */
  calibration?: CalibrationTable | null;
  /** Whether a PRM will be loaded; strategies that score steps need one. @default true */
  hasPrm?: boolean;
  /** Shared parameters (temperature, maxStepTokens, ...), checked with each configuration. */
  params?: Partial<StrategyParams>;
}

export interface Plan {
  configs: EvalConfig[];
  /**
   * Configurations that cannot run: compute-optimal at a budget below its difficulty samples + 1,
   * lookahead at a budget its cost per candidate does not divide.
   */
  skipped: SkippedConfig[];
}

/** Parses `1,4,16` into ascending distinct positive integers. */
export function parseBudgets(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const out = parts.map((p) => {
    if (!/^[1-9]\d*$/.test(p)) throw new OptionError(`Budgets must be positive integers separated by commas, got '${text}'`);
    return Number(p);
  });
  return [...new Set(out)].sort((a, b) => a - b);
}

/** Parses `majority,beam` into known names (duplicates dropped, order kept). */
export function parseStrategies(text: string): string[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new OptionError('Expected at least one strategy');
  for (const name of names) checkEvalStrategy(name);
  return [...new Set(names)];
}

export function checkEvalStrategy(name: string): void {
  if (!EVAL_STRATEGIES.includes(name)) {
    throw new OptionError(`Unknown strategy \`${name}\`; known strategies: ${EVAL_STRATEGIES.join(', ')}`);
  }
}

function beamWidthFor(strategy: StrategyName, budget: number, n: number, explicit: number | undefined): number {
  const m = explicit ?? Math.min(DEFAULTS.beamWidth, n);
  if (n % m !== 0) {
    const runs = n === budget ? `Budget ${budget}` : `Budget ${budget} (${n} candidates of ${budget / n} generations each)`;
    throw new OptionError(
      `${runs} is not divisible by beam width ${m}: ${strategy} runs n / beamWidth groups of ` +
        `beamWidth candidates; choose budgets that are multiples of ${(m * budget) / n}` +
        (explicit === undefined ? ' or pass a beam width that divides them' : ' or another beam width'),
    );
  }
  return m;
}

/**
 * Generations each of the strategy's n candidates costs. Budgets count generations, as in Snell et al.,
 * where lookahead search with k rollout steps spends N·(k + 1) on N candidates: at budget B it runs
 * n = B / (k + 1). Every other strategy spends one generation a candidate.
 */
function generationsPerCandidate(strategy: StrategyName, input: PlanInput): number {
  if (strategy !== 'beam' && strategy !== 'lookahead') return 1;
  try {
    return resolveParams(strategy, { ...input.params, n: 1, beamWidth: 1 }).lookahead + 1;
  } catch (err) {
    if (err instanceof OptionError) throw new OptionError(`${strategy}: ${err.message}`);
    throw err;
  }
}

/** The configuration of one strategy at one budget, running n candidates; throws OptionError with the cell named. */
function configFor(strategy: StrategyName, budget: number, input: PlanInput, n = budget): EvalConfig {
  const params: Partial<StrategyParams> = { n };
  if (GROUPED.includes(strategy)) params.beamWidth = beamWidthFor(strategy, budget, n, input.beamWidth);
  try {
    const resolved = resolveParams(strategy, { ...input.params, ...params });
    if (input.hasPrm === false && STRATEGIES.get(strategy)!.needsPrm(resolved)) {
      throw new OptionError(`strategy \`${strategy}\` scores steps with a process reward model; pass a PRM`);
    }
  } catch (err) {
    if (err instanceof OptionError) throw new OptionError(`${strategy} at budget ${budget}: ${err.message}`);
    throw err;
  }
  return { label: strategy, strategy, budget, params };
}

export function buildPlan(input: PlanInput): Plan {
  for (const s of input.strategies) checkEvalStrategy(s);
  if (input.budgets.length === 0) throw new OptionError('Expected at least one budget');
  for (const b of input.budgets) {
    if (!Number.isInteger(b) || b < 1) throw new OptionError(`Budgets must be positive integers, got ${b}`);
  }
  if (input.beamWidth !== undefined && (!Number.isInteger(input.beamWidth) || input.beamWidth < 1)) {
    throw new OptionError(`Beam width must be a positive integer, got ${input.beamWidth}`);
  }
  const budgets = [...new Set(input.budgets)].sort((a, b) => a - b);
  const configs: EvalConfig[] = [];
  const skipped: SkippedConfig[] = [];
  if (input.greedy !== false || input.strategies.includes(GREEDY)) {
    configs.push({ label: GREEDY, strategy: 'majority', budget: 1, params: { n: 1, temperature: 0 } });
  }
  for (const name of input.strategies) {
    if (name === GREEDY) continue;
    if (!isStrategyName(name)) continue;
    if (name === 'compute-optimal') {
      const table = input.calibration;
      if (!table) {
        throw new OptionError('Strategy `compute-optimal` needs a calibration table (made by `thinktree calibrate`)');
      }
      for (const budget of budgets) {
        if (budgetFor(table, budget - table.difficultySamples) === null) {
          skipped.push({
            label: name,
            budget,
            reason: `after ${table.difficultySamples} difficulty samples no calibrated budget ` +
              `(${Object.keys(table.choices).join(', ')}) fits in ${budget}`,
          });
        } else {
          configs.push(configFor(name, budget, input));
        }
      }
      continue;
    }
    const perCandidate = generationsPerCandidate(name, input);
    for (const budget of budgets) {
      if (budget % perCandidate !== 0) {
        skipped.push({
          label: name,
          budget,
          reason: `each candidate costs ${perCandidate} generations (its lookahead rollout included), which does not divide ${budget}`,
        });
      } else {
        configs.push(configFor(name, budget, input, budget / perCandidate));
      }
    }
  }
  if (configs.length === 0) throw new OptionError(`Nothing to run: ${skipped.map((s) => `${s.label} at ${s.budget}: ${s.reason}`).join('; ')}`);
  return { configs, skipped };
}
