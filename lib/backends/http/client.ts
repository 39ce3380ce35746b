/**
 * JSON over HTTP to one inference server, with a per-attempt timeout, retries with exponential backoff
 * and full jitter on 429 / 503 and broken connections (every request thinktree sends is idempotent: the
 * sampler seed is in the request), and cancellation through an AbortSignal (the connection is closed,
 * so the server sees the client go).
 */
import { readErrorBody } from '../../protocol/errors.js';
import { parseJson } from '../../protocol/validate.js';
import { abortError } from '../../errors.js';
import { RemoteBackendError } from './errors.js';

export interface HttpClientOptions {
  /** The server's base URL, without the `/v1` part: `http://127.0.0.1:8000`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Most milliseconds one attempt may take, connection to last byte. @default 120000 */
  timeoutMs?: number;
  /** Retries after the first attempt (429, 503, connection refused or reset). @default 3 */
  retries?: number;
  /** First backoff; attempt k waits a random time in [0, base × 2^k), capped at maxBackoffMs. @default 250 */
  backoffMs?: number;
  /** @default 8000 */
  maxBackoffMs?: number;
}

/** Statuses worth another attempt: the server is busy or (re)starting. */
const RETRY_STATUS = new Set([429, 503]);
/** Socket errors worth another attempt (undici reports them as the cause of a TypeError). */
const RETRY_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'UND_ERR_SOCKET']);

function causeCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function causeMessage(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof Error && e.message && !parts.includes(e.message)) parts.push(e.message);
  }
  return parts.join(': ') || String(err);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Seconds or an HTTP date, as Retry-After carries them; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

class AttemptTimeout extends Error {}

/** One server's JSON endpoints. */
export class HttpClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly headers: Record<string, string>;

  constructor(options: HttpClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new TypeError(`Expected \`baseUrl\` to be an http(s) URL, got ${JSON.stringify(options.baseUrl)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`Expected \`baseUrl\` to be an http(s) URL, got ${JSON.stringify(options.baseUrl)}`);
    }
    this.baseUrl = url.href.replace(/\/+$/u, '').replace(/\/v1$/u, '');
    const check = (name: string, v: number | undefined, fallback: number, min: number): number => {
      if (v === undefined) return fallback;
      if (!Number.isFinite(v) || v < min) throw new TypeError(`Expected \`${name}\` to be a number ≥ ${min}, got ${v}`);
      return v;
    };
    this.timeoutMs = check('timeoutMs', options.timeoutMs, 120_000, 1);
    this.retries = Math.floor(check('retries', options.retries, 3, 0));
    this.backoffMs = check('backoffMs', options.backoffMs, 250, 0);
    this.maxBackoffMs = check('maxBackoffMs', options.maxBackoffMs, 8000, 0);
    this.headers = { accept: 'application/json' };
    if (options.apiKey) this.headers.authorization = `Bearer ${options.apiKey}`;
  }

  get(path: string, signal?: AbortSignal): Promise<unknown> {
    return this.request('GET', path, undefined, signal);
  }

  post(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    return this.request('POST', path, JSON.stringify(body), signal);
  }

  /** Sends one request, retrying what may be retried; resolves with the parsed JSON body. */
  private async request(method: string, path: string, body: string | undefined, signal?: AbortSignal): Promise<unknown> {
    const endpoint = `${method} ${path}`;
    const fail = (...args: [RemoteBackendError['failure'], number | null, string, number, unknown?]) =>
      new RemoteBackendError(args[0], this.baseUrl, endpoint, args[1], args[2], args[3], { cause: args[4] });
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw abortError(signal);
      let wait: number | undefined;
      let error: RemoteBackendError;
      try {
        const { status, text, retryAfter } = await this.attempt(method, path, body, signal);
        if (status >= 200 && status < 300) {
          try {
            return parseJson(text, 'the response');
          } catch (err) {
            throw fail('protocol', status, (err as Error).message, attempt);
          }
        }
        const detail = readErrorBody(safeJson(text));
        const message = detail?.message ?? (text.trim() === '' ? '(empty body)' : text.trim().slice(0, 300));
        error = fail('http', status, message, attempt);
        if (!RETRY_STATUS.has(status)) throw error;
        wait = retryAfter;
      } catch (err) {
        if (err instanceof RemoteBackendError) throw err;
        if (signal?.aborted) throw abortError(signal);
        if (err instanceof AttemptTimeout) throw fail('timeout', null, `no response within ${this.timeoutMs} ms`, attempt, err);
        const code = causeCode(err);
        error = fail('network', null, `connection failed (${causeMessage(err)})`, attempt, err);
        if (code === undefined || !RETRY_CODES.has(code)) throw error;
      }
      if (attempt > this.retries) throw error;
      const backoff = Math.random() * Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1));
      await sleep(Math.min(this.maxBackoffMs, wait ?? backoff), signal);
    }
  }

  /** One attempt: the status and the whole body text, or a throw (network, timeout, abort). */
  private async attempt(
    method: string,
    path: string,
    body: string | undefined,
    signal?: AbortSignal,
  ): Promise<{ status: number; text: string; retryAfter: number | undefined }> {
    const controller = new AbortController();
    const timeout = new AttemptTimeout();
    const timer = setTimeout(() => controller.abort(timeout), this.timeoutMs);
    const onAbort = () => controller.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await fetch(this.baseUrl + path, {
        method,
        headers: body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' },
        body,
        signal: controller.signal,
      });
      // The body is read under the same timeout and signal.
      const text = await res.text();
      return { status: res.status, text, retryAfter: retryAfterMs(res.headers.get('retry-after')) };
    } catch (err) {
      if (controller.signal.reason === timeout) throw timeout;
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
