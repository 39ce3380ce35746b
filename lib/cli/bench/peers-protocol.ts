/**
 * The protocol both engines of the peers suite follow on one GGUF file, and what each reports: a
 * shared prompt, B sequences, greedy decode of `newTokens` each, the same thread count.
 */

export interface PeerProtocol {
  threads: number;
  /** Token ids of the shared prompt. */
  prompt: readonly number[];
  /** Tokens each sequence generates. */
  newTokens: number;
  /** Sequence counts B to decode at. */
  batches: readonly number[];
  /** Also time the prompt alone (one sequence). */
  measurePrompt: boolean;
  /**
   * Wall seconds after which llama.cpp's decode of one B stops short of `newTokens` (its spinning
   * threads slow down by 10× and more on a host whose cores other processes take); the rate is then
   * over the tokens generated so far. thinktree's decode is one call and runs to `newTokens`.
   */
  decodeBudgetSeconds: number;
}

export interface PeerRates {
  /** Prompt tokens/s of one prompt; null when the protocol did not ask for it. */
  prompt: number | null;
  /** B → decode tokens/s over all B sequences. */
  decode: Map<number, number>;
  /** B → tokens each sequence generated (`newTokens` unless the budget stopped it). */
  generated: Map<number, number>;
}
