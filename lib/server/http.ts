/** Reading request bodies under a byte limit, and writing JSON and server-sent events. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, errorBody } from './errors.js';

/**
 * The request body as text. Stops reading at `limit` bytes (413, the rest is not read; a
 * Content-Length above the limit is refused before any byte is read).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | null) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        finish(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => finish(null));
    req.on('error', (err) => finish(err));
    req.on('close', () => finish(new HttpError(400, 'the client closed the connection before the body ended')));
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `The request body is larger than the server's limit of ${limit} bytes`, 'invalid_request_error', null, 'body_too_large');
}

/** Parses a JSON object body (400 for malformed JSON or a non-object). */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `The request body is not valid JSON: ${(err as Error).message}`, 'invalid_request_error', null, 'invalid_json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'The request body must be a JSON object', 'invalid_request_error', null, 'invalid_json');
  }
  return value as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: HttpError): void {
  sendJson(res, err.status, errorBody(err), { ...err.headers });
}

/** A server-sent event stream: `data: {...}\n\n` per event and `data: [DONE]\n\n` at the end. */
export class SseStream {
  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
  }

  get open(): boolean {
    return !this.res.destroyed && !this.res.writableEnded;
  }

  send<T = unknown>(data: T): void {
    if (this.open) this.res.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  /** An error after the stream started: sent as an event carrying the error body (as vLLM does). */
  fail(err: HttpError): void {
    this.send(errorBody(err));
    this.done();
  }

  done(): void {
    if (!this.open) return;
    this.res.write('data: [DONE]\n\n');
    this.res.end();
  }
}
