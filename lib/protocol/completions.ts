/**
 * `POST /v1/completions` as vLLM serves it (OpenAI's legacy completions API plus vLLM's extra sampling
 * fields). Matched against vLLM's `CompletionRequest` / `CompletionResponse` (see versions.ts). SGLang's
 * `/v1/completions` takes the same body and answers in the same shape.
 */
import { readUsage, type UsageInfo } from './usage.js';
import { eachOf, FieldReader, numberArray, ProtocolError, readPrompts } from './validate.js';

/** The request fields thinktree sends or a thinktree server reads; vLLM accepts many more. */
export interface CompletionRequest {
  model?: string;
  /** A string, strings (one completion set per prompt), token ids, or token-id arrays. */
  prompt: string | string[] | number[] | number[][];
  /** Completions per prompt. @default 1 */
  n?: number;
  /** @default 16 (vLLM) */
  max_tokens?: number;
  /** @default 1 */
  temperature?: number;
  /** @default 1 */
  top_p?: number;
  /** vLLM extra: 0 or -1 (or absent) consider all tokens. */
  top_k?: number;
  /** Per-request sampler seed: the same seed, prompt and parameters give the same completion. */
  seed?: number;
  stop?: string | string[];
  /** vLLM extra: keep the matched stop string at the end of `text`. @default false */
  include_stop_str_in_output?: boolean;
  /** Top log-probabilities per generated token (0 returns the sampled token's alone). */
  logprobs?: number;
  /** vLLM extra. @default true */
  skip_special_tokens?: boolean;
  /** vLLM extra: return `token_ids` and `prompt_token_ids` on each choice. */
  return_token_ids?: boolean;
  stream?: boolean;
  echo?: boolean;
  user?: string;
}

/** The log-probabilities of a choice, one entry per generated token. */
export interface CompletionLogprobs {
  text_offset: number[];
  /** null where the server has none (the first prompt token under echo). */
  token_logprobs: (number | null)[];
  tokens: string[];
  top_logprobs: (Record<string, number> | null)[] | null;
}

/** 'stop': a stop string, a stop token or EOS; 'length': max_tokens or the context end. */
export type CompletionFinishReason = 'stop' | 'length' | 'abort' | (string & {});

export interface CompletionChoice {
  /** With several prompts, choices are flat: prompt p's k-th completion is index p × n + k. */
  index: number;
  text: string;
  logprobs: CompletionLogprobs | null;
  finish_reason: CompletionFinishReason | null;
  /**
   * vLLM extra: the stop string or stop token id that ended the choice; null when it ended on EOS
   * (finish_reason 'stop') or on length.
   */
  stop_reason?: string | number | null;
  /** SGLang's name for the same: the stop string or token id that matched. */
  matched_stop?: string | number | null;
  /** vLLM extra (with return_token_ids): the generated tokens' ids, and the prompt's. */
  token_ids?: number[] | null;
  prompt_token_ids?: number[] | null;
}

export interface CompletionResponse {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: CompletionChoice[];
  usage: UsageInfo;
}

const INT = { integer: true } as const;

/** Checks a completions request body (a server's view), returning the typed request. */
export function parseCompletionRequest(body: unknown): CompletionRequest {
  const r = FieldReader.of(body, '');
  if (!r.has('prompt')) throw new ProtocolError('prompt is required', 'prompt');
  readPrompts(r.obj.prompt, 'prompt'); // checks the shape; the field is kept as sent
  const req: CompletionRequest = { prompt: r.obj.prompt as CompletionRequest['prompt'] };
  const model = r.optString('model');
  if (model !== undefined) req.model = model;
  const n = r.optNumber('n', { ...INT, min: 1 });
  if (n !== undefined) req.n = n;
  const maxTokens = r.optNumber('max_tokens', { ...INT, min: 0 });
  if (maxTokens !== undefined) req.max_tokens = maxTokens;
  const temperature = r.optNumber('temperature', { min: 0 });
  if (temperature !== undefined) req.temperature = temperature;
  const topP = r.optNumber('top_p', { min: 0, max: 1 });
  if (topP !== undefined) {
    if (topP === 0) throw new ProtocolError('top_p must be in (0, 1], got 0', 'top_p');
    req.top_p = topP;
  }
  const topK = r.optNumber('top_k', { ...INT, min: -1 });
  if (topK !== undefined) req.top_k = topK;
  const seed = r.optNumber('seed', INT);
  if (seed !== undefined) req.seed = seed;
  const stop = r.optStrings('stop');
  if (stop !== undefined) req.stop = stop;
  const keepStop = r.optBoolean('include_stop_str_in_output');
  if (keepStop !== undefined) req.include_stop_str_in_output = keepStop;
  const logprobs = r.optNumber('logprobs', { ...INT, min: 0 });
  if (logprobs !== undefined) req.logprobs = logprobs;
  const skip = r.optBoolean('skip_special_tokens');
  if (skip !== undefined) req.skip_special_tokens = skip;
  const returnIds = r.optBoolean('return_token_ids');
  if (returnIds !== undefined) req.return_token_ids = returnIds;
  const stream = r.optBoolean('stream');
  if (stream !== undefined) req.stream = stream;
  const echo = r.optBoolean('echo');
  if (echo !== undefined) req.echo = echo;
  const user = r.optString('user');
  if (user !== undefined) req.user = user;
  return req;
}

/** The prompts of a request as a list (a single string or id array is one prompt). */
export function completionPrompts(req: CompletionRequest): (string | number[])[] {
  return readPrompts(req.prompt, 'prompt');
}

function readLogprobs(r: FieldReader): CompletionLogprobs {
  const tokens = r.array('tokens');
  tokens.forEach((t, i) => {
    if (typeof t !== 'string') throw new ProtocolError(`${r.at('tokens')}[${i}] must be a string`, `${r.at('tokens')}[${i}]`);
  });
  const tokenLogprobs = r.array('token_logprobs').map((v, i) => (v === null ? null : numberArray([v], `${r.at('token_logprobs')}[${i}]`)[0]));
  if (tokenLogprobs.length !== tokens.length) {
    throw new ProtocolError(
      `${r.at('token_logprobs')} has ${tokenLogprobs.length} entries for ${tokens.length} tokens`,
      r.at('token_logprobs'),
    );
  }
  const offsets = r.has('text_offset') ? numberArray(r.obj.text_offset, r.at('text_offset')) : [];
  const top = r.has('top_logprobs') ? (r.array('top_logprobs') as (Record<string, number> | null)[]) : null;
  return { text_offset: offsets, token_logprobs: tokenLogprobs, tokens: tokens as string[], top_logprobs: top };
}

/** Checks a completions response (a client's view), returning it typed; choices sorted by index. */
export function parseCompletionResponse(body: unknown): CompletionResponse {
  const r = FieldReader.of(body, '');
  const choices = eachOf(r.array('choices'), 'choices', (c): CompletionChoice => {
    const stopOf = (key: string) => {
      const v = c.obj[key];
      if (v !== undefined && v !== null && typeof v !== 'string' && typeof v !== 'number') c.fail(key, 'a string, a token id or null');
      return (v ?? null) as string | number | null;
    };
    const lp = c.has('logprobs') ? readLogprobs(c.object('logprobs')) : null;
    const choice: CompletionChoice = {
      index: c.number('index', { integer: true, min: 0 }),
      text: c.string('text'),
      logprobs: lp,
      finish_reason: c.nullableString('finish_reason'),
      stop_reason: stopOf('stop_reason'),
    };
    if (c.has('matched_stop')) choice.matched_stop = stopOf('matched_stop');
    for (const key of ['token_ids', 'prompt_token_ids'] as const) {
      if (!c.has(key)) continue;
      const ids = numberArray(c.obj[key], c.at(key));
      ids.forEach((t, i) => {
        if (!Number.isInteger(t) || t < 0) throw new ProtocolError(`${c.at(key)}[${i}] must be a token id, got ${t}`, `${c.at(key)}[${i}]`);
      });
      choice[key] = ids;
    }
    return choice;
  });
  choices.sort((a, b) => a.index - b.index);
  return {
    id: r.optString('id') ?? '',
    object: 'text_completion',
    created: r.optNumber('created') ?? 0,
    model: r.optString('model') ?? '',
    choices,
    usage: readUsage(r.object('usage')),
  };
}
