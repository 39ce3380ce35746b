/**
 * What a search needs to know about the problem domain, implemented by each task (lib/tasks/math is
 * the search's default: MATH-style answers, steps separated by a blank line as in search-and-learn).
 * Strategies never look for `\boxed{` or `"\n\n"` themselves; they ask the task.
 */
export interface Task {
  /**
   * Strings that end a reasoning step; kept in the step text.
   * @default ['\n\n']
   */
  readonly stepStop: readonly string[];
  /** Whether a newly generated step ends the solution (a final answer appeared). */
  isFinal(stepText: string): boolean;
  /** The final answer in a solution's text, or null. */
  extractAnswer(text: string): string | null;
  /** Whether two extracted answers are the same answer. */
  answersEqual(a: string, b: string): boolean;
  /**
   * A cheap grouping key for votes: answers with equal keys must be equal under `answersEqual` (answers with
   * different keys may still be equal; the vote then asks `answersEqual`).
   * @default the answer itself
   */
  answerKey?(answer: string): string;
  /**
   * Text appended to the policy context after an attempt, before the next revision.
   * @default '\n\nThe solution above may contain mistakes. Here is a revised solution.\n\n'
   */
  readonly revisionPrompt: string;
}
