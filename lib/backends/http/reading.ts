/** Reading a server's answers into what a SearchBackend returns. */
import type { StepFinish } from '../types.js';
import type { CompletionChoice } from '../../protocol/completions.js';
import { ProtocolError } from '../../protocol/validate.js';

/** Finish of a completion choice: 'stop' with a stop string is a step end; 'stop' without one is EOS. */
export function finishOf(choice: CompletionChoice): { finish: StepFinish; stop: string | null } {
  // SGLang names the stop that matched `matched_stop`; vLLM `stop_reason`. A token id is a stop token.
  const reason = choice.stop_reason ?? choice.matched_stop ?? null;
  if (choice.finish_reason === 'length') return { finish: 'length', stop: null };
  if (choice.finish_reason === 'stop') return typeof reason === 'string' ? { finish: 'stop', stop: reason } : { finish: 'eos', stop: null };
  throw new ProtocolError(`choices[${choice.index}].finish_reason is ${JSON.stringify(choice.finish_reason)}; expected 'stop' or 'length'`);
}

/** Probabilities from a row: kept when they already are a distribution, else softmaxed (a server sent logits). */
export function probabilities(row: readonly number[]): number[] {
  const sum = row.reduce((a, b) => a + b, 0);
  if (row.every((x) => x >= 0 && x <= 1) && Math.abs(sum - 1) < 1e-3) return [...row];
  const max = Math.max(...row);
  const e = row.map((x) => Math.exp(x - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

