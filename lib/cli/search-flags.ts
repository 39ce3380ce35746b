/** The sampling and scoring flags eval and calibrate share, so a table is fit as it will be used. */

import { EVAL_DEFAULTS } from '../eval/defaults.js';
import { AGGREGATIONS, isAggregation } from '../search/aggregate.js';
import type { StrategyParams } from '../search/params.js';
import { intFlag, numberFlag, str, UsageError, type FlagValues } from './flags.js';

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
