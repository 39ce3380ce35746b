/** The benches' greedy decode request: temperature 0 on every sequence, no stop strings, EOS ignored (random weights). */
import type { NativeGenerateStepRequest } from '../../native/addon-types.js';

export function greedyRequest(seqs: Int32Array, maxTokens: number): NativeGenerateStepRequest {
  const n = seqs.length;
  return {
    seqs,
    maxTokens: new Int32Array(n).fill(maxTokens),
    temperature: new Float32Array(n),
    topK: new Int32Array(n),
    topP: new Float32Array(n).fill(1),
    minP: new Float32Array(n),
    stop: [],
    stopAtEos: false,
  };
}
