// A server on the shipped demo models, on loopback, for the server tests.
import { expect } from 'vitest';
import { serve, type ServeOptions, type ServerHandle } from '../../lib/server/server.js';

export async function startServer(options: ServeOptions = {}): Promise<ServerHandle> {
  return serve({ host: '127.0.0.1', port: 0, threads: 1, kvCacheBytes: 16 << 20, ...options });
}

export interface Answer {
  status: number;
  headers: Headers;
  json: any;
  text: string;
}

export async function call(server: ServerHandle, path: string, body?: unknown, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(server.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    ...init,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** The `data:` payloads of an SSE body, `[DONE]` included. */
export function sseEvents(text: string): string[] {
  return text
    .split('\n\n')
    .filter((e) => e.trim() !== '')
    .map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      return e.slice('data: '.length);
    });
}

/** Every KV page of both models is back in the pool, and no backend node or sequence is live. */
export function expectAllReleased(server: ServerHandle): void {
  const kv = server.engine.kvStats();
  expect(kv.policy.pagesInUse).toBe(0);
  expect(kv.policy.sequences).toBe(0);
  expect(kv.prm?.pagesInUse ?? 0).toBe(0);
  expect(kv.prm?.sequences ?? 0).toBe(0);
  expect(server.engine.backend.liveNodes).toBe(0);
}

/** Polls `check` until it passes (bounded: `tries` × 20 ms). */
export async function eventually(check: () => void, tries = 250): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      check();
      return;
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export const QUESTION = 'Tom has 3 apples and buys 4 more. How many apples does he have?';
