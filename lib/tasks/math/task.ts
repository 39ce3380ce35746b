import type { Task } from '../task.js';
import { answersEqual, extractAnswer, mathAnswerKey } from './answers.js';

/** MATH-style: a step containing `\boxed{` is final (as DVTS prunes in search-and-learn). */
export const mathTask: Task = {
  stepStop: ['\n\n'],
  isFinal: (stepText) => stepText.includes('\\boxed{'),
  extractAnswer,
  answersEqual,
  answerKey: mathAnswerKey,
  revisionPrompt: '\n\nThe solution above may contain mistakes. Here is a revised solution.\n\n',
};

/** A task with the math defaults for whatever `overrides` leaves out. */
export function defineTask(overrides: Partial<Task>): Task {
  const task: Task = { ...mathTask, ...overrides };
  // The math key is only valid for the math equivalence: a task with its own `answersEqual` and no key groups
  // votes by `answersEqual` alone.
  if (overrides.answersEqual !== undefined && overrides.answerKey === undefined) delete task.answerKey;
  return task;
}
