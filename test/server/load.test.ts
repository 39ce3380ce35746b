// Many clients at once: concurrent searches share the engine and give every KV page back; a client
// that goes away mid-stream has its sequences released; a full queue answers 429 and the server stays up.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ServerHandle } from '../../lib/server/server.js';
import { QUESTION, call, eventually, expectAllReleased, startServer } from './helpers.js';

let server: ServerHandle | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const messages = [{ role: 'user', content: QUESTION }];

/**
 * Opens a streaming request and resolves once its body holds `marker` (by default: its first event
 * arrived, so it is admitted and running).
 */
async function openStream(s: ServerHandle, path: string, body: unknown, marker = 'data: '): Promise<{ controller: AbortController; done: Promise<void> }> {
  const controller = new AbortController();
  const res = await fetch(s.url + path, { method: 'POST', body: JSON.stringify({ ...(body as object), stream: true }), signal: controller.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended before ${marker}`);
    text += decoder.decode(value, { stream: true });
  }
  const done = (async () => {
    try {
      for (;;) if ((await reader.read()).done) return;
    } catch {
      // aborted by the test
    }
  })();
  return { controller, done };
}

describe('many clients', () => {
  it('answers 64 concurrent clients running small searches, then holds no KV page', async () => {
    server = await startServer();
    const s = server;
    const models = ['beam-4', 'best-of-n-2', 'dvts-4', 'majority-2'];
    const answers = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        call(s, '/v1/chat/completions', { model: models[i % models.length], messages, thinktree: { seed: i, maxIterations: 3 } }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(new Array(64).fill(200));
    expect(answers.every((a) => typeof a.json.choices[0].message.content === 'string')).toBe(true);
    expectAllReleased(s);
    const metrics = (await call(s, '/metrics')).text;
    expect(metrics).toMatch(/^thinktree_requests_total\{endpoint="\/v1\/chat\/completions",status="200"\} 64$/m);
  });

  it('answers concurrent completions with the same text as one at a time (merged batches change nothing)', async () => {
    server = await startServer({ chunkTokens: 4 });
    const s = server;
    const prompt = s.engine.policy.chatPrompt(messages);
    const body = (seed: number) => ({ prompt, max_tokens: 40, temperature: 1, seed, n: 2 });
    const alone = [];
    for (let i = 0; i < 6; i++) alone.push((await call(s, '/v1/completions', body(i))).json.choices.map((c: { text: string }) => c.text));
    const together = await Promise.all(Array.from({ length: 6 }, (_, i) => call(s, '/v1/completions', body(i))));
    expect(together.map((a) => a.json.choices.map((c: { text: string }) => c.text))).toEqual(alone);
    expectAllReleased(s);
  });
});

describe('batching across clients', () => {
  it('merges the decode rounds of concurrent clients into shared generateStep calls', async () => {
    server = await startServer({ chunkTokens: 8 });
    const s = server;
    const prompt = s.engine.policy.chatPrompt(messages);
    const spy = vi.spyOn(s.engine.policy, 'generateStep');
    const clients = 8;
    const answers = await Promise.all(
      Array.from({ length: clients }, (_, i) => call(s, '/v1/completions', { prompt, max_tokens: 8, temperature: 1, seed: i })),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // One round each (8 tokens at most): alone they would take 8 calls of one sequence.
    const sizes = spy.mock.calls.map(([seqs]) => seqs.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(clients);
    expect(sizes.length).toBeLessThan(clients);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    spy.mockRestore();
  });
});

describe('clients that go away', () => {
  it('releases the sequences of a streamed search whose client disconnects', async () => {
    server = await startServer();
    const s = server;
    const { controller, done } = await openStream(s, '/v1/chat/completions', { model: 'beam-16', messages, thinktree: { maxIterations: 10 } }, '"progress"');
    expect(s.engine.kvStats().policy.pagesInUse).toBeGreaterThan(0);
    controller.abort();
    await done;
    await eventually(() => expectAllReleased(s));
    expect((await call(s, '/health')).status).toBe(200);
  });

  it('releases the sequences of a streamed completion whose client disconnects', async () => {
    server = await startServer({ chunkTokens: 1 });
    const s = server;
    const prompt = s.engine.policy.chatPrompt(messages);
    const { controller, done } = await openStream(s, '/v1/completions', { prompt, n: 8, max_tokens: 200, temperature: 1.5, seed: 1 });
    controller.abort();
    await done;
    await eventually(() => expectAllReleased(s));
    const again = await call(s, '/v1/completions', { prompt, max_tokens: 4 });
    expect(again.status).toBe(200);
  });
});

describe('a full queue', () => {
  it('answers 429 with Retry-After beyond --max-queue, and serves again once there is room', async () => {
    server = await startServer({ maxQueue: 2 });
    const s = server;
    const slow = { model: 'beam-16', messages, thinktree: { maxIterations: 10 } };
    const running = [await openStream(s, '/v1/chat/completions', slow), await openStream(s, '/v1/chat/completions', slow)];
    const refused = await call(s, '/v1/completions', { prompt: 'x', max_tokens: 1 });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.json.error.type).toBe('rate_limit_error');
    // Health and metrics need no queue slot.
    expect((await call(s, '/health')).status).toBe(200);
    expect((await call(s, '/metrics')).text).toMatch(/^thinktree_rejected_queue_full_total 1$/m);
    // The admitted requests are not dropped: they finish.
    await Promise.all(running.map((r) => r.done));
    await eventually(() => expectAllReleased(s));
    expect((await call(s, '/v1/completions', { prompt: 'x', max_tokens: 1 })).status).toBe(200);
  });
});

describe('a full KV pool', () => {
  it('answers 503 with Retry-After when a request cannot fit, holds nothing after, and serves the next one', async () => {
    server = await startServer({ kvCacheBytes: 1 << 20 });
    const s = server;
    const pages = s.engine.policy.kvStats().pagesTotal;
    const prompt = Array.from({ length: 40 }, () => QUESTION).join(' ');
    const r = await call(s, '/v1/completions', { prompt, n: 128, max_tokens: 200, temperature: 1 });
    expect(pages).toBeLessThan(128 * 4);
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(r.json.error.code).toBe('kv_cache_full');
    await eventually(() => expectAllReleased(s));
    expect((await call(s, '/v1/completions', { prompt: 'Tom', max_tokens: 2 })).status).toBe(200);
  });
});

describe('close()', () => {
  it('aborts what is still running after the grace period and releases every sequence', async () => {
    server = await startServer({ closeGraceMs: 0 });
    const s = server;
    const { done } = await openStream(s, '/v1/chat/completions', { model: 'beam-16', messages, thinktree: { maxIterations: 10 } });
    const engine = s.engine;
    await s.close();
    server = undefined;
    await done;
    // The server loaded its models, so close() disposed them.
    expect(() => engine.kvStats()).toThrow(/disposed/);
  });
});
