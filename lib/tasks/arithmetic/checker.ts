/**
 * Labels every step of any solution text against a structured problem: the process supervision that
 * trains and evaluates process reward models on this task. Steps are the paragraphs between
 * STEP_SEPARATORs. The checker walks the problem's operations with a cursor `k` (the next operation
 * the solution owes); each step is matched to an operation, judged against the problem's TRUE running
 * value before that operation, and moves the cursor. So after a slip, a step that carries the wrong
 * value forward is wrong ("wrong-running-value"), and a step that returns to the true value is right.
 * Never throws on a string, whatever it contains.
 */

import { arithmeticHolds, extractBoxed, hasBoxed, parseIntegerAnswer, parseStep, type ParsedStep } from './parse.js';
import type { Operation } from './problem.js';
import { STEP_SEPARATOR } from './solution.js';

export type StepReason =
  /** Neither an equation in the step format nor an answer paragraph. */
  | 'unparseable'
  /** `left op right` does not equal the stated result. */
  | 'arithmetic'
  /** The operator differs from the operation the solution owes next. */
  | 'wrong-operation'
  /** The right-hand number differs from that operation's operand. */
  | 'wrong-operand'
  /** The left-hand number is not the true running value before that operation. */
  | 'wrong-running-value'
  /** Applies a later operation, leaving out one or more before it. */
  | 'skipped-step'
  /** Redoes an operation that was already owed and passed. */
  | 'repeated-step'
  /** An equation after every operation has been accounted for. */
  | 'extra-step'
  /** An answer paragraph while operations are still owed. */
  | 'premature-answer'
  /** The boxed integer is not the problem's answer. */
  | 'wrong-answer'
  /** `\boxed{}` without exactly one integer inside (or never closed). */
  | 'unparseable-answer';

export interface StepLabel {
  /** Position among the labelled steps (empty paragraphs are not steps). */
  index: number;
  /** Half-open [start, end) character range of the paragraph in the checked text. */
  start: number;
  end: number;
  /** The paragraph, trimmed. */
  text: string;
  kind: 'equation' | 'answer' | 'unparsed';
  correct: boolean;
  /** Empty iff correct. */
  reasons: StepReason[];
  /** Index of the problem operation this step was judged against; null when there is none. */
  operation: number | null;
}

export interface AnswerLabel {
  /** A `\boxed{` occurs in the text. */
  found: boolean;
  /** Trimmed content of the last `\boxed{...}`, or null. */
  value: string | null;
  /** The content is an integer equal to the problem's answer. */
  correct: boolean;
}

export interface CheckResult {
  steps: StepLabel[];
  answer: AnswerLabel;
  /** Index of the first incorrect step, -1 when there is none. */
  firstError: number;
  allStepsCorrect: boolean;
  /** Every step correct, at least one step, and the final answer correct. */
  solved: boolean;
}

/** What the checker needs from a problem: its structured start and operations. */
export interface CheckableProblem {
  start: number;
  operations: readonly Operation[];
}

interface Walk {
  ops: readonly Operation[];
  /** [ops.length + 1] true running values. */
  values: bigint[];
  /** The next operation the solution owes. */
  k: number;
}

export function checkSolution(problem: CheckableProblem, text: string): CheckResult {
  if (typeof text !== 'string') throw new TypeError(`Expected the solution to be a string, got ${typeof text}`);
  const walk = startWalk(problem);
  const answerValue = walk.values[walk.values.length - 1];
  const steps: StepLabel[] = [];
  let offset = 0;
  for (const paragraph of text.split(STEP_SEPARATOR)) {
    const start = offset;
    offset += paragraph.length + STEP_SEPARATOR.length;
    const trimmed = paragraph.trim();
    if (trimmed === '') continue;
    const base = { index: steps.length, start, end: start + paragraph.length, text: trimmed };
    steps.push({ ...base, ...judgeParagraph(walk, trimmed, answerValue) });
  }

  const found = hasBoxed(text);
  const value = extractBoxed(text);
  const parsed = parseIntegerAnswer(value);
  const answer: AnswerLabel = { found, value, correct: parsed !== null && parsed === answerValue };
  const firstError = steps.findIndex((s) => !s.correct);
  const allStepsCorrect = firstError < 0;
  return { steps, answer, firstError, allStepsCorrect, solved: allStepsCorrect && steps.length > 0 && answer.correct };
}

function startWalk(problem: CheckableProblem): Walk {
  if (!Number.isSafeInteger(problem.start)) throw new TypeError(`Expected \`start\` to be an integer, got ${problem.start}`);
  const values = [BigInt(problem.start)];
  problem.operations.forEach((op, i) => {
    if (!Number.isSafeInteger(op.operand)) throw new TypeError(`Expected operations[${i}].operand to be an integer`);
    const v = values[i];
    const n = BigInt(op.operand);
    if (op.op === 'div' && (n === 0n || v % n !== 0n)) throw new TypeError(`operations[${i}] is not an exact division`);
    values.push(op.op === 'add' ? v + n : op.op === 'sub' ? v - n : op.op === 'mul' ? v * n : v / n);
  });
  return { ops: problem.operations, values, k: 0 };
}

type Verdict = Pick<StepLabel, 'kind' | 'correct' | 'reasons' | 'operation'>;

function verdict(kind: StepLabel['kind'], reasons: StepReason[], operation: number | null): Verdict {
  return { kind, correct: reasons.length === 0, reasons, operation };
}

function judgeParagraph(walk: Walk, paragraph: string, answerValue: bigint): Verdict {
  if (hasBoxed(paragraph)) return judgeAnswer(walk, paragraph, answerValue);
  const step = parseStep(paragraph);
  if (step === null) return verdict('unparsed', ['unparseable'], null);
  return judgeEquation(walk, step);
}

function judgeAnswer(walk: Walk, paragraph: string, answerValue: bigint): Verdict {
  const value = parseIntegerAnswer(extractBoxed(paragraph));
  if (value === null) return verdict('answer', ['unparseable-answer'], null);
  const reasons: StepReason[] = [];
  if (walk.k < walk.ops.length) reasons.push('premature-answer');
  if (value !== answerValue) reasons.push('wrong-answer');
  return verdict('answer', reasons, null);
}

function sameOperation(step: ParsedStep, op: Operation): boolean {
  return step.op === op.op && step.right === BigInt(op.operand);
}

function judgeEquation(walk: Walk, step: ParsedStep): Verdict {
  const { ops, values, k } = walk;
  const reasons: StepReason[] = arithmeticHolds(step) ? [] : ['arithmetic'];

  // The operation owed next, applied as written: judged against the true running value.
  if (k < ops.length && sameOperation(step, ops[k])) {
    if (step.left !== values[k]) reasons.unshift('wrong-running-value');
    walk.k = k + 1;
    return verdict('equation', reasons, k);
  }
  // A later operation applied to the value before or after the ones left out: a skip.
  for (let j = k + 1; j < ops.length; j++) {
    if (sameOperation(step, ops[j]) && (step.left === values[k] || step.left === values[j])) {
      walk.k = j + 1;
      return verdict('equation', ['skipped-step', ...reasons], j);
    }
  }
  // An operation already passed, redone on its own true input: the cursor stays.
  for (let j = 0; j < k; j++) {
    if (sameOperation(step, ops[j]) && step.left === values[j]) {
      return verdict('equation', ['repeated-step', ...reasons], j);
    }
  }
  if (k >= ops.length) return verdict('equation', ['extra-step', ...reasons], null);
  // Otherwise it stands in for the owed operation and gets every difference from it.
  const owed = ops[k];
  const differences: StepReason[] = [];
  if (step.op !== owed.op) differences.push('wrong-operation');
  if (step.right !== BigInt(owed.operand)) differences.push('wrong-operand');
  if (step.left !== values[k]) differences.push('wrong-running-value');
  walk.k = k + 1;
  return verdict('equation', [...differences, ...reasons], k);
}
