/**
 * `POST /v1/chat/completions` as vLLM serves it: the request, the whole response, and the SSE chunks of
 * a streamed response (`data: {chunk}\n\n` lines, ended by `data: [DONE]\n\n`).
 */
import { readUsage, type UsageInfo } from './usage.js';
import { eachOf, FieldReader, ProtocolError } from './validate.js';

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool' | 'developer';
const CHAT_ROLES: readonly ChatRole[] = ['system', 'user', 'assistant', 'tool', 'developer'];

/** A message with text content (content parts of type 'text' are joined). */
export interface ChatCompletionMessage {
  role: ChatRole;
  content: string;
}

export interface ChatCompletionRequest {
  model?: string;
  messages: ChatCompletionMessage[];
  n?: number;
  /** OpenAI's newer name for max_tokens; vLLM reads either. */
  max_completion_tokens?: number;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  stop?: string | string[];
  stream?: boolean;
  /** `{ include_usage: true }` adds a last chunk with usage. */
  stream_options?: { include_usage?: boolean };
  /** Log-probabilities of the sampled tokens, and `top_logprobs` alternatives per token. */
  logprobs?: boolean;
  top_logprobs?: number;
  /** vLLM extra. @default true */
  add_generation_prompt?: boolean;
  include_stop_str_in_output?: boolean;
  skip_special_tokens?: boolean;
  user?: string;
}

export interface ChatTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
  top_logprobs: { token: string; logprob: number; bytes: number[] | null }[];
}

export interface ChatCompletionChoice {
  index: number;
  message: { role: 'assistant'; content: string | null };
  logprobs: { content: ChatTokenLogprob[] | null } | null;
  finish_reason: string | null;
  /** vLLM extra, as in completions. */
  stop_reason?: string | number | null;
}

export interface ChatCompletionResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage: UsageInfo;
}

/** One `data:` event of a streamed chat completion. The first chunk of a choice carries the role. */
export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: 'assistant'; content?: string };
    logprobs?: { content: ChatTokenLogprob[] | null } | null;
    finish_reason: string | null;
    stop_reason?: string | number | null;
  }[];
  /** Present (choices empty) in the last chunk when stream_options.include_usage was set. */
  usage?: UsageInfo | null;
}

function messageContent(m: FieldReader): string {
  const c = m.obj.content;
  if (typeof c === 'string') return c;
  if (c === null || c === undefined) return '';
  if (Array.isArray(c)) {
    return c
      .map((part, i) => {
        const p = FieldReader.of(part, `${m.at('content')}[${i}]`);
        if (p.string('type') !== 'text') {
          throw new ProtocolError(`${p.at('type')}: only text content parts are supported`, p.at('type'));
        }
        return p.string('text');
      })
      .join('');
  }
  m.fail('content', 'a string or an array of text parts');
}

/** Checks a chat request body (a server's view): messages with known roles and text content. */
export function parseChatCompletionRequest(body: unknown): ChatCompletionRequest {
  const r = FieldReader.of(body, '');
  const list = r.array('messages');
  if (list.length === 0) throw new ProtocolError('messages must not be empty', 'messages');
  const messages = eachOf(list, 'messages', (m) => {
    const role = m.optEnum('role', CHAT_ROLES);
    if (role === undefined) throw new ProtocolError(`${m.at('role')} is required`, m.at('role'));
    return { role, content: messageContent(m) };
  });
  const int = { integer: true };
  const req: ChatCompletionRequest = { messages };
  const set = <K extends keyof ChatCompletionRequest>(k: K, v: ChatCompletionRequest[K] | undefined) => {
    if (v !== undefined) req[k] = v;
  };
  set('model', r.optString('model'));
  set('n', r.optNumber('n', { ...int, min: 1 }));
  set('max_completion_tokens', r.optNumber('max_completion_tokens', { ...int, min: 0 }));
  set('max_tokens', r.optNumber('max_tokens', { ...int, min: 0 }));
  set('temperature', r.optNumber('temperature', { min: 0 }));
  set('top_p', r.optNumber('top_p', { min: 0, max: 1 }));
  set('top_k', r.optNumber('top_k', { ...int, min: -1 }));
  set('seed', r.optNumber('seed', int));
  set('stop', r.optStrings('stop'));
  set('stream', r.optBoolean('stream'));
  const so = r.optObject('stream_options');
  if (so) set('stream_options', { include_usage: so.optBoolean('include_usage') ?? false });
  set('logprobs', r.optBoolean('logprobs'));
  set('top_logprobs', r.optNumber('top_logprobs', { ...int, min: 0 }));
  set('add_generation_prompt', r.optBoolean('add_generation_prompt'));
  set('include_stop_str_in_output', r.optBoolean('include_stop_str_in_output'));
  set('skip_special_tokens', r.optBoolean('skip_special_tokens'));
  set('user', r.optString('user'));
  return req;
}

/** Checks a (non-streamed) chat response (a client's view). */
export function parseChatCompletionResponse(body: unknown): ChatCompletionResponse {
  const r = FieldReader.of(body, '');
  const choices = eachOf(r.array('choices'), 'choices', (c): ChatCompletionChoice => {
    const m = c.object('message');
    const content = m.obj.content;
    if (content !== null && content !== undefined && typeof content !== 'string') m.fail('content', 'a string or null');
    const lp = c.optObject('logprobs');
    return {
      index: c.number('index', { integer: true, min: 0 }),
      message: { role: 'assistant', content: (content ?? null) as string | null },
      logprobs: lp ? { content: lp.has('content') ? (lp.array('content') as ChatTokenLogprob[]) : null } : null,
      finish_reason: c.nullableString('finish_reason'),
      stop_reason: (c.obj.stop_reason ?? null) as string | number | null,
    };
  });
  return {
    id: r.optString('id') ?? '',
    object: 'chat.completion',
    created: r.optNumber('created') ?? 0,
    model: r.optString('model') ?? '',
    choices: choices.sort((a, b) => a.index - b.index),
    usage: readUsage(r.object('usage')),
  };
}

/** Checks one streamed chunk (the JSON after `data: `). */
export function parseChatCompletionChunk(body: unknown): ChatCompletionChunk {
  const r = FieldReader.of(body, '');
  const choices = eachOf(r.array('choices'), 'choices', (c) => {
    const d = c.object('delta');
    const delta: { role?: 'assistant'; content?: string } = {};
    const role = d.optString('role');
    if (role !== undefined) {
      if (role !== 'assistant') d.fail('role', "'assistant'");
      delta.role = 'assistant';
    }
    const content = d.optString('content');
    if (content !== undefined) delta.content = content;
    return {
      index: c.number('index', { integer: true, min: 0 }),
      delta,
      finish_reason: c.nullableString('finish_reason'),
      stop_reason: (c.obj.stop_reason ?? null) as string | number | null,
    };
  });
  const usage = r.optObject('usage');
  return {
    id: r.optString('id') ?? '',
    object: 'chat.completion.chunk',
    created: r.optNumber('created') ?? 0,
    model: r.optString('model') ?? '',
    choices,
    usage: usage ? readUsage(usage) : null,
  };
}

/**
 * Splits an SSE body into its `data:` payloads, stopping at `[DONE]`. Events are separated by a blank
 * line; comment lines (`:`) and other fields are skipped.
 */
export function sseDataEvents(text: string): string[] {
  const out: string[] = [];
  for (const event of text.split(/\r?\n\r?\n/u)) {
    const data = event
      .split(/\r?\n/u)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /u, ''))
      .join('\n');
    if (data === '') continue;
    if (data === '[DONE]') break;
    out.push(data);
  }
  return out;
}
