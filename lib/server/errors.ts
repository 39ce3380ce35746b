/**
 * Refusals in OpenAI's error shape: `{ "error": { "message", "type", "param", "code" } }`, with the HTTP
 * status that goes with them (vLLM answers the same shape).
 */

import type { OpenAIErrorBody } from '../protocol/errors.js';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error';

/** What a handler throws to refuse a request; the server turns it into the error body. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly type: ErrorType = 'invalid_request_error',
    /** The request field at fault, e.g. `max_tokens` or `messages[2].content`. */
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Extra response headers (Retry-After, Allow, WWW-Authenticate). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** 400 for a field: the message names it, `param` carries it. */
export function badField(param: string, message: string, code = 'invalid_value'): HttpError {
  return new HttpError(400, message, 'invalid_request_error', param, code);
}

export function errorBody(err: HttpError): OpenAIErrorBody {
  return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
}
