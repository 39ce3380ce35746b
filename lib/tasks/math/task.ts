import type { Task } from '../task.js';
import { answersEqual, extractAnswer } from './answers.js';

/** MATH-style: a step containing `\boxed{` is final (as DVTS prunes in search-and-learn). */
export const mathTask: Task = {
  stepStop: ['\n\n'],
  isFinal: (stepText) => stepText.includes('\\boxed{'),
  extractAnswer,
  answersEqual,
  revisionPrompt: '\n\nThe solution above may contain mistakes. Here is a revised solution.\n\n',
};

/** A task with the math defaults for whatever `overrides` leaves out. */
export function defineTask(overrides: Partial<Task>): Task {
  return { ...mathTask, ...overrides };
}
