/** An outcome reward model as the judge: its reward for (instruction, response), the thought unseen. */
import type { RewardModel } from '../models/orm/reward-model.js';
import type { JudgeItem, ResponseJudge } from './judge.js';

export function ormJudge(model: RewardModel, name = 'ORM'): ResponseJudge {
  return {
    name,
    score: (items: readonly JudgeItem[], signal?: AbortSignal) =>
      model.score(items.map((i) => ({ prompt: i.instruction, response: i.response })), signal),
  };
}
