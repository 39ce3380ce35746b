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
}

export interface PeerRates {
  /** Prompt tokens/s of one prompt; null when the protocol did not ask for it. */
  prompt: number | null;
  /** B → decode tokens/s over all B sequences. */
  decode: Map<number, number>;
}
