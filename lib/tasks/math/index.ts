/**
 * The MATH task (Hendrycks et al.): `\boxed{}` answers graded as the MATH grader does, steps separated
 * by a blank line as in search-and-learn. The search's default task.
 */

export { answersEqual, extractAnswer, mathAnswerKey, normalizeMathAnswer } from './answers.js';
export { defineTask, mathTask } from './task.js';
