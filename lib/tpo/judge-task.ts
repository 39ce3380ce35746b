/**
 * The verifiable-task judge: 1 when the response's final answer equals the reference answer under the
 * task's own equivalence, else 0.
 */
import { OptionError } from '../errors.js';
import { mathTask } from '../tasks/math/task.js';
import type { Task } from '../tasks/task.js';
import type { JudgeItem, ResponseJudge } from './judge.js';

/** A judge that grades each response's answer against its item's `reference`. @default task mathTask */
export function taskJudge(task: Pick<Task, 'extractAnswer' | 'answersEqual'> = mathTask): ResponseJudge {
  return {
    name: 'task checker',
    score(items: readonly JudgeItem[]): Promise<number[]> {
      const missing = items.findIndex((i) => typeof i.reference !== 'string' || i.reference.trim() === '');
      if (missing >= 0) {
        return Promise.reject(new OptionError(`the task checker judge needs a reference answer for every prompt; item ${missing} has none (give \`answer\` in the prompts file)`));
      }
      return Promise.resolve(
        items.map((i) => {
          const got = task.extractAnswer(i.response);
          return got !== null && task.answersEqual(got, i.reference!) ? 1 : 0;
        }),
      );
    },
  };
}
