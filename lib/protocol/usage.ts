import { FieldReader } from './validate.js';

/**
 * Token counts a response reports (vLLM's `UsageInfo`). `prompt_tokens_details.cached_tokens` is sent
 * only when the server runs with `--enable-prompt-tokens-details`; it counts prompt tokens served from
 * the prefix cache.
 */
export interface UsageInfo {
  prompt_tokens: number;
  /** 0 for pooling responses. */
  completion_tokens?: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

export function readUsage(r: FieldReader): UsageInfo {
  const int = { integer: true, min: 0 };
  const details = r.optObject('prompt_tokens_details');
  const usage: UsageInfo = {
    prompt_tokens: r.number('prompt_tokens', int),
    total_tokens: r.number('total_tokens', int),
  };
  const completion = r.optNumber('completion_tokens', int);
  if (completion !== undefined) usage.completion_tokens = completion;
  if (details) {
    const cached = details.optNumber('cached_tokens', int);
    usage.prompt_tokens_details = cached === undefined ? {} : { cached_tokens: cached };
  }
  return usage;
}
