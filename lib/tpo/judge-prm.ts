/**
 * The process reward model as a judge: the response is scored as a single step after the instruction.
 * In process (a loaded Prm) or through any SearchBackend with a PRM (the remote backend's /pooling).
 */
import type { SearchBackend } from '../backends/types.js';
import type { Prm } from '../models/prm/prm.js';
import type { JudgeItem, ResponseJudge } from './judge.js';

/** The PRM's reward for the response as the one step of a solution to the instruction. */
export function prmJudge(prm: Prm, name = 'PRM'): ResponseJudge {
  return {
    name,
    async score(items: readonly JudgeItem[]): Promise<number[]> {
      const out: number[] = [];
      for (const item of items) out.push((await prm.scoreSteps(item.instruction, [item.response]))[0]!);
      return out;
    },
  };
}

/**
 * The same through a backend's PRM: a root per item (the instruction as the question, with its PRM
 * context), the response scored as its first step, the root released. Roots are made concurrently so a
 * native backend merges the scoring into shared batches.
 */
export function backendPrmJudge(backend: SearchBackend, name = 'PRM (backend)'): ResponseJudge {
  return {
    name,
    score(items: readonly JudgeItem[], signal?: AbortSignal): Promise<number[]> {
      return Promise.all(
        items.map(async (item) => {
          const root = await backend.createRoot(item.instruction, { seed: 0, withPrm: true, signal });
          try {
            return (await backend.score([root.node], [item.response], signal)).rewards[0]!;
          } finally {
            await backend.release([root.node]);
          }
        }),
      );
    },
  };
}
