/**
 * The arithmetic word-problem task: the package's built-in task. Generator (problem.ts), reference
 * solutions (solution.ts), exact step checker (checker.ts), splits (split.ts), JSONL (jsonl.ts).
 * docs/tasks/arithmetic.md describes the grammar and the formats.
 */

export { Rng, deriveSeed, type Seed } from './rng.js';
export { LEVELS, isLevel, levelParams, type Level, type LevelParams } from './levels.js';
export { OP_KINDS, OP_TEMPLATES, type OpKind } from './templates.js';
export {
  applyOperation, draftStream, drawDraft, generateProblems, renderDraft, problemStream, renderProblem, runningValues, templatesFor,
  validateStructured, type ArithmeticProblem, type GenerateOptions, type Operation, type Phrasing, type ProblemDraft,
  type StructuredProblem,
} from './problem.js';
export { OP_SYMBOL, STEP_SEPARATOR, formatAnswer, formatStep, referenceSolution } from './solution.js';
export { arithmeticHolds, extractBoxed, parseIntegerAnswer, parseStep, type ParsedStep } from './parse.js';
export {
  checkSolution, type AnswerLabel, type CheckResult, type CheckableProblem, type StepLabel, type StepReason,
} from './checker.js';
export {
  SPLITS, SPLIT_FRACTIONS, SplitExhaustedError, contentId, generateSplit, generateSplits, isSplitName,
  normaliseProblemText, splitOf, splitStream, structureKey, type SplitName, type SplitOptions,
} from './split.js';
export { parseRecord, recordLine, toRecord, type ArithmeticRecord } from './jsonl.js';

import { checkSolution } from './checker.js';
import { extractBoxed, parseIntegerAnswer } from './parse.js';
import type { StructuredProblem } from './problem.js';
import { STEP_SEPARATOR } from './solution.js';

/**
 * The task's domain rules in one place, for the search and eval layers: how steps are delimited,
 * how an answer is read out of a completion, and how it is graded.
 */
export const arithmeticTask = {
  name: 'arithmetic',
  stepSeparator: STEP_SEPARATOR,
  /** The final answer of a completion, normalised (`007` and `7` vote together); null when absent. */
  extractAnswer(text: string): string | null {
    const value = parseIntegerAnswer(extractBoxed(text));
    return value === null ? null : value.toString();
  },
  /** Whether a completion's final answer is right (the outcome, not the process). */
  isCorrect(problem: Pick<StructuredProblem, 'answer'>, text: string): boolean {
    const value = parseIntegerAnswer(extractBoxed(text));
    return value !== null && value === BigInt(problem.answer);
  },
  check: checkSolution,
} as const;
