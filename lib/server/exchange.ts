/** The shape every endpoint handler has: a checked request in, a JSON reply or a stream it wrote out. */
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { UsageInfo } from '../protocol/usage.js';
import type { ServerContext } from './context.js';
import { HttpError } from './errors.js';
import type { Body } from './validate.js';

export interface Exchange {
  ctx: ServerContext;
  body: Body;
  res: ServerResponse;
  /** Aborts when the client goes away or the server closes. */
  signal: AbortSignal;
}

/** A JSON reply, a text reply, or 'streamed' when the handler wrote a server-sent event stream itself. */
export type Reply = { status: number; body: unknown } | { status: number; text: string; contentType: string } | 'streamed';

export type Handler = (ex: Exchange) => Promise<Reply>;

/** An id like vLLM's (`cmpl-…`, `chatcmpl-…`, `pool-…`). */
export function requestId(prefix: string): string {
  return `${prefix}-${randomUUID().replace(/-/g, '')}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function modelNotFound(name: string): HttpError {
  return new HttpError(404, `The model \`${name}\` does not exist.`, 'not_found_error', 'model', 'model_not_found');
}

/** OpenAI's usage; `cachedTokens` (prompt tokens the prefix cache served) goes in prompt_tokens_details as vLLM sends it. */
export function usage(promptTokens: number, completionTokens: number, cachedTokens?: number): UsageInfo {
  const u: UsageInfo = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  if (cachedTokens !== undefined) u.prompt_tokens_details = { cached_tokens: cachedTokens };
  return u;
}
