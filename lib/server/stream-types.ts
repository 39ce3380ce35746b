/** Streamed completion chunks: vLLM sends the completion object shape with the choice deltas. */
import type { CompletionResponse } from '../protocol/completions.js';
import type { UsageInfo } from '../protocol/usage.js';

export type CompletionChunkBody = Omit<CompletionResponse, 'usage'> & { usage?: UsageInfo };
