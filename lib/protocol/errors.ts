/**
 * OpenAI's error body, which vLLM (since it moved to the nested form) and SGLang send with every 4xx/5xx:
 * `{ "error": { "message", "type", "param", "code" } }`. Older vLLM releases sent the same fields flat
 * (`{ "object": "error", "message", "type", "param", "code" }`); readErrorBody accepts both.
 */
import { isObject } from './validate.js';

export interface OpenAIErrorDetail {
  message: string;
  /** e.g. 'BadRequestError', 'NotFoundError', 'invalid_request_error', 'authentication_error'. */
  type: string;
  param: string | null;
  /** vLLM puts the HTTP status here; OpenAI a string code. */
  code: number | string | null;
}

export interface OpenAIErrorBody {
  error: OpenAIErrorDetail;
}

/** The error body for a refusal. */
export function errorBody(status: number, message: string, type: string, param: string | null = null): OpenAIErrorBody {
  return { error: { message, type, param, code: status } };
}

/** The error's message and type from a body in either form, or undefined when it is neither. */
export function readErrorBody(body: unknown): OpenAIErrorDetail | undefined {
  if (!isObject(body)) return undefined;
  const e = isObject(body.error) ? body.error : typeof body.message === 'string' ? body : undefined;
  if (e === undefined || typeof e.message !== 'string') return undefined;
  const code = e.code;
  return {
    message: e.message,
    type: typeof e.type === 'string' ? e.type : '',
    param: typeof e.param === 'string' ? e.param : null,
    code: typeof code === 'number' || typeof code === 'string' ? code : null,
  };
}
