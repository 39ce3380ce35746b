/**
 * Per-level generation parameters. Five bins, as in Snell et al. (2024), from one-step sums of small
 * numbers to seven-step chains with hundreds, where a tiny model's greedy decoding slips often enough
 * for search with a process reward model to pay off. docs/tasks/arithmetic.md restates this table;
 * keep the two in step.
 */

export type Level = 1 | 2 | 3 | 4 | 5;
export const LEVELS: readonly Level[] = [1, 2, 3, 4, 5];

export interface LevelParams {
  /** Number of operations after the start quantity, inclusive range. */
  minOps: number;
  maxOps: number;
  /** Start quantity, inclusive range. */
  minStart: number;
  maxStart: number;
  /** Largest operand of an addition or subtraction. */
  maxAddend: number;
  /** Largest factor of a multiplication (the smallest is 2). */
  maxFactor: number;
  /** Largest divisor of a division (the smallest is 2). */
  maxDivisor: number;
  /** No running value may exceed this; it keeps numbers short for a byte-level model. */
  maxValue: number;
  /** Relative weights of add, sub, mul, div when drawing the next operation. */
  weights: { add: number; sub: number; mul: number; div: number };
}

const PARAMS: Record<Level, LevelParams> = {
  1: { minOps: 1, maxOps: 2, minStart: 2, maxStart: 19, maxAddend: 19, maxFactor: 3, maxDivisor: 3,
    maxValue: 99, weights: { add: 4, sub: 4, mul: 1, div: 1 } },
  2: { minOps: 2, maxOps: 3, minStart: 5, maxStart: 49, maxAddend: 49, maxFactor: 4, maxDivisor: 4,
    maxValue: 499, weights: { add: 3, sub: 3, mul: 1, div: 1 } },
  3: { minOps: 3, maxOps: 4, minStart: 10, maxStart: 99, maxAddend: 99, maxFactor: 5, maxDivisor: 5,
    maxValue: 1999, weights: { add: 3, sub: 3, mul: 2, div: 2 } },
  4: { minOps: 4, maxOps: 5, minStart: 20, maxStart: 199, maxAddend: 199, maxFactor: 7, maxDivisor: 7,
    maxValue: 4999, weights: { add: 2, sub: 2, mul: 2, div: 2 } },
  5: { minOps: 5, maxOps: 7, minStart: 50, maxStart: 399, maxAddend: 399, maxFactor: 9, maxDivisor: 9,
    maxValue: 9999, weights: { add: 2, sub: 2, mul: 3, div: 3 } },
};

export function isLevel(value: unknown): value is Level {
  return value === 1 || value === 2 || value === 3 || value === 4 || value === 5;
}

export function levelParams(level: Level): LevelParams {
  if (!isLevel(level)) throw new TypeError(`Expected \`level\` to be an integer in 1..5, got ${String(level)}`);
  return PARAMS[level];
}
