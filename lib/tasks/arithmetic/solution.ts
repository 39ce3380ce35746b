/**
 * The reference solution format. Chosen for a tiny byte-level model and for an exact parser: one
 * equation per step, always `<running value> <op> <operand> = <result>` with single spaces and ASCII
 * operators, steps separated by a blank line, then a final `The answer is \boxed{<answer>}.`
 * Prose would make the steps longer without making them more checkable.
 */

import { runningValues, type Operation, type StructuredProblem } from './problem.js';
import type { OpKind } from './templates.js';

/** Separates steps in a solution; the search layer splits generated text on it too. */
export const STEP_SEPARATOR = '\n\n';

/** The ASCII symbol of each operation in a step. */
export const OP_SYMBOL: Readonly<Record<OpKind, string>> = { add: '+', sub: '-', mul: '*', div: '/' };

/** One step, e.g. `85 * 3 = 255`. */
export function formatStep(left: number | bigint, operation: Operation, result: number | bigint): string {
  return `${left} ${OP_SYMBOL[operation.op]} ${operation.operand} = ${result}`;
}

/** The last paragraph, e.g. `The answer is \boxed{236}.` */
export function formatAnswer(answer: number | bigint | string): string {
  return `The answer is \\boxed{${answer}}.`;
}

/** The reference solution: one step per operation, then the answer paragraph. */
export function referenceSolution(problem: Pick<StructuredProblem, 'start' | 'operations'>): string {
  const values = runningValues(problem.start, problem.operations);
  const steps = problem.operations.map((operation, i) => formatStep(values[i], operation, values[i + 1]));
  steps.push(formatAnswer(values[values.length - 1]));
  return steps.join(STEP_SEPARATOR);
}
