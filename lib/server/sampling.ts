/**
 * The sampling fields completions and chat completions share, read and checked as vLLM reads them
 * (vLLM 0.8–0.10 defaults: temperature 1, top_p 1, top_k -1 or 0 = off, min_p 0).
 */
import { badField, HttpError } from './errors.js';
import type { GenerationRequest } from './generate.js';
import { optBool, optNumber, optStop, type Body } from './validate.js';

/** The fields below, for unknown-field checks. */
export const SAMPLING_FIELDS = [
  'n',
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'min_p',
  'seed',
  'stop',
  'include_stop_str_in_output',
  'skip_special_tokens',
  'stream',
  'stream_options',
  'user',
  'presence_penalty',
  'frequency_penalty',
  'repetition_penalty',
  'best_of',
  'logit_bias',
] as const;

/** Most choices one request may ask for. */
export const MAX_N = 128;

export type Sampling = Omit<GenerationRequest, 'prompt' | 'maxTokens'> & { maxTokens: number | undefined };

export function readSampling(body: Body, maxTokensField = 'max_tokens'): Sampling {
  const n = optNumber(body, 'n', { min: 1, max: MAX_N, integer: true }) ?? 1;
  const bestOf = optNumber(body, 'best_of', { min: 1, max: MAX_N, integer: true });
  if (bestOf !== undefined && bestOf !== n) throw badField('best_of', '`best_of` other than `n` is not supported', 'unsupported');
  for (const [field, neutral] of [['presence_penalty', 0], ['frequency_penalty', 0], ['repetition_penalty', 1]] as const) {
    const v = optNumber(body, field, { min: -2, max: 2 });
    if (v !== undefined && v !== neutral) throw badField(field, `\`${field}\` is not supported (only ${neutral})`, 'unsupported');
  }
  const bias = body.logit_bias;
  if (bias !== undefined && bias !== null && (typeof bias !== 'object' || Object.keys(bias).length > 0)) {
    throw badField('logit_bias', '`logit_bias` is not supported', 'unsupported');
  }
  if (body.user !== undefined && typeof body.user !== 'string') throw badField('user', '`user` must be a string', 'invalid_type');
  const topK = optNumber(body, 'top_k', { min: -1, integer: true }) ?? 0;
  return {
    n,
    maxTokens: optNumber(body, maxTokensField, { min: 1, integer: true }),
    temperature: optNumber(body, 'temperature', { min: 0, max: 100 }) ?? 1,
    topP: positiveTopP(body),
    topK: topK === -1 ? 0 : topK,
    minP: optNumber(body, 'min_p', { min: 0, max: 1 }) ?? 0,
    seed: optNumber(body, 'seed', { min: 0, max: 2 ** 53 - 1, integer: true }),
    stop: optStop(body),
    includeStopStrInOutput: optBool(body, 'include_stop_str_in_output') ?? false,
    skipSpecialTokens: optBool(body, 'skip_special_tokens') ?? true,
  };
}

function positiveTopP(body: Body): number {
  const v = optNumber(body, 'top_p', { min: 0, max: 1 }) ?? 1;
  if (v === 0) throw badField('top_p', '`top_p` must be in (0, 1], got 0');
  return v;
}

/** `stream` and `stream_options.include_usage`. */
export function readStream(body: Body): { stream: boolean; includeUsage: boolean } {
  const stream = optBool(body, 'stream') ?? false;
  const so = body.stream_options;
  if (so === undefined || so === null) return { stream, includeUsage: false };
  if (typeof so !== 'object' || Array.isArray(so)) throw badField('stream_options', '`stream_options` must be an object', 'invalid_type');
  if (!stream) throw badField('stream_options', '`stream_options` is only allowed with `stream: true`');
  return { stream, includeUsage: optBool(so as Body, 'include_usage', 'stream_options.') ?? false };
}

/**
 * The completion budget: `max_tokens` as given (refused when prompt + max_tokens exceed the context,
 * as vLLM does), or what is left of the context.
 */
export function completionBudget(promptTokens: number, maxTokens: number | undefined, context: number, param: string, fallback?: number): number {
  if (promptTokens >= context) {
    throw new HttpError(
      400,
      `This model's maximum context length is ${context} tokens. However, your prompt has ${promptTokens} tokens, which leaves no room for a completion.`,
      'invalid_request_error',
      param,
      'context_length_exceeded',
    );
  }
  if (maxTokens !== undefined && promptTokens + maxTokens > context) {
    throw new HttpError(
      400,
      `This model's maximum context length is ${context} tokens. However, you requested ${promptTokens + maxTokens} tokens ` +
        `(${promptTokens} in the prompt, ${maxTokens} in the completion). Please reduce the length of the prompt or the completion.`,
      'invalid_request_error',
      'max_tokens',
      'context_length_exceeded',
    );
  }
  return maxTokens ?? Math.min(fallback ?? Infinity, context - promptTokens);
}
