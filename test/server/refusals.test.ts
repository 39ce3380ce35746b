// What `thinktree serve` refuses, each in OpenAI's error body with its status, and nothing left held.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readErrorBody } from '../../lib/protocol/errors.js';
import type { ServerHandle } from '../../lib/server/server.js';
import { QUESTION, call, expectAllReleased, startServer, type Answer } from './helpers.js';

const KEY = 'sk-test-0123456789';
let server: ServerHandle;
beforeAll(async () => {
  server = await startServer({ apiKey: KEY, maxBodyBytes: 4096 });
});
afterAll(async () => {
  await server?.close();
});

const auth = { headers: { authorization: `Bearer ${KEY}` } };
const post = (path: string, body: unknown) => call(server, path, body, auth);

function expectError(r: Answer, status: number, param?: string | null): void {
  expect(r.status).toBe(status);
  expect(Object.keys(r.json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  const e = readErrorBody(r.json)!;
  expect(e.message.length).toBeGreaterThan(0);
  if (param !== undefined) expect(e.param).toBe(param);
}

describe('API key', () => {
  it('refuses a request without a key with 401', async () => {
    const r = await call(server, '/v1/completions', { prompt: 'x', max_tokens: 1 });
    expectError(r, 401);
    expect(r.json.error.type).toBe('authentication_error');
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('refuses a wrong key with 401, also one of the same length', async () => {
    for (const key of ['nope', KEY.replace(/9$/, '8')]) {
      expectError(await call(server, '/v1/models', undefined, { headers: { authorization: `Bearer ${key}` } }), 401);
    }
  });

  it('answers the right key, and /health without one', async () => {
    expect((await call(server, '/v1/models', undefined, auth)).status).toBe(200);
    expect((await call(server, '/health')).status).toBe(200);
  });
});

describe('malformed requests', () => {
  it('refuses malformed JSON with 400', async () => {
    expectError(await post('/v1/completions', '{"prompt": "x",'), 400, null);
    expectError(await post('/v1/completions', '[1, 2]'), 400, null);
  });

  it.each([
    [{ prompt: 42 }, 'prompt'],
    [{ prompt: 'x', max_tokens: 'ten' }, 'max_tokens'],
    [{ prompt: 'x', temperature: '0.5' }, 'temperature'],
    [{ prompt: 'x', n: 2.5 }, 'n'],
    [{ prompt: 'x', stop: [1] }, 'stop[0]'],
    [{ prompt: 'x', stream: 'yes' }, 'stream'],
    [{ prompt: [1, 'a'] }, 'prompt[0]'],
    [{ prompt: 'x', frobnicate: 1 }, 'frobnicate'],
  ])('refuses a field of the wrong type with 400 naming it (%j)', async (body, param) => {
    expectError(await post('/v1/completions', body), 400, param);
  });

  it.each([
    [{ prompt: 'x', max_tokens: 0 }, 'max_tokens'],
    [{ prompt: 'x', temperature: -1 }, 'temperature'],
    [{ prompt: 'x', top_p: 0 }, 'top_p'],
    [{ prompt: 'x', top_p: 1.5 }, 'top_p'],
    [{ prompt: 'x', n: 0 }, 'n'],
    [{ prompt: 'x', n: 100000 }, 'n'],
    [{ prompt: 'x', seed: -3 }, 'seed'],
    [{ prompt: [999999] }, 'prompt[0]'],
  ])('refuses an out-of-range value with 400 naming it (%j)', async (body, param) => {
    expectError(await post('/v1/completions', body), 400, param);
  });

  it('refuses bad chat messages with 400 naming the message', async () => {
    expectError(await post('/v1/chat/completions', { messages: [] }), 400, 'messages');
    expectError(await post('/v1/chat/completions', { messages: [{ role: 'user', content: 5 }] }), 400, 'messages[0].content');
    expectError(await post('/v1/chat/completions', { messages: [{ role: 'wizard', content: 'x' }] }), 400, 'messages[0].role');
  });

  it('refuses bad search options with 400 naming the field', async () => {
    const messages = [{ role: 'user', content: QUESTION }];
    expectError(await post('/v1/chat/completions', { model: 'beam-6', messages, thinktree: { beamWidth: 4 } }), 400, 'thinktree.beamWidth');
    expectError(await post('/v1/chat/completions', { model: 'policy', messages, thinktree: { strategy: 'greedy', n: 4 } }), 400, 'thinktree.strategy');
    expectError(await post('/v1/chat/completions', { model: 'beam-4', messages, thinktree: { bogus: 1 } }), 400, 'thinktree.bogus');
    expectError(await post('/v1/chat/completions', { model: 'beam-4', messages, n: 2 }), 400, 'n');
    expectError(await post('/v1/chat/completions', { model: 'policy', messages, thinktree: { n: 4 } }), 400, 'thinktree.strategy');
    expectError(await post('/v1/chat/completions', { model: 'beam-4', messages, stop: ['x'] }), 400, 'stop');
  });
});

describe('limits', () => {
  it('refuses more completions than one request may ask for with 400', async () => {
    expectError(await post('/v1/completions', { prompt: new Array(20).fill('x'), n: 100 }), 400, 'n');
  });

  it('refuses a prompt longer than the model context with 400', async () => {
    const context = server.engine.policy.config.maxPositionEmbeddings!;
    const r = await post('/v1/completions', { prompt: new Array(context + 5).fill(7), max_tokens: 1 });
    expectError(r, 400, 'prompt');
    expect(r.json.error.code).toBe('context_length_exceeded');
    expect(r.json.error.message).toContain(String(context));
  });

  it('refuses prompt + max_tokens beyond the context with 400 naming max_tokens', async () => {
    const context = server.engine.policy.config.maxPositionEmbeddings!;
    expectError(await post('/v1/completions', { prompt: new Array(100).fill(7), max_tokens: context }), 400, 'max_tokens');
  });

  it('refuses a PRM input longer than its context with 400', async () => {
    const context = server.engine.prm!.config.maxPositionEmbeddings!;
    const r = await post('/pooling', { input: new Array(context + 1).fill(7) });
    expectError(r, 400, 'input');
  });

  it('refuses a body over the limit with 413', async () => {
    const r = await post('/v1/completions', { prompt: 'x'.repeat(10_000) });
    expectError(r, 413);
  });

  it('stops reading a body that grows past the limit without a Content-Length (413)', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, '127.0.0.1', () => {
        socket.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nTransfer-Encoding: chunked\r\n\r\n`);
        const chunk = 'y'.repeat(1000);
        for (let i = 0; i < 8; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      });
      let got = '';
      socket.on('data', (d) => (got += d.toString()));
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
      setTimeout(() => socket.destroy(), 5000);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 413/);
  });
});

describe('unknown things', () => {
  it('refuses an unknown model with 404', async () => {
    const r = await post('/v1/completions', { model: 'gpt-9', prompt: 'x' });
    expectError(r, 404, 'model');
    expectError(await post('/v1/chat/completions', { model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] }), 404, 'model');
    expectError(await post('/pooling', { model: 'gpt-9', input: 'x' }), 404, 'model');
  });

  it('refuses a model on the wrong endpoint with 400 saying which endpoint it answers', async () => {
    const search = await post('/v1/completions', { model: 'beam-16', prompt: 'x' });
    expectError(search, 400, 'model');
    expect(search.json.error.message).toContain('/v1/chat/completions');
    expectError(await post('/v1/completions', { model: 'prm', prompt: 'x' }), 400, 'model');
    expectError(await post('/pooling', { model: 'policy', input: 'x' }), 400, 'model');
  });

  it('refuses an unknown route with 404 and a wrong method with 405', async () => {
    expectError(await call(server, '/v1/nothing', undefined, auth), 404);
    const r = await call(server, '/v1/completions', undefined, auth);
    expectError(r, 405);
    expect(r.headers.get('allow')).toBe('POST');
  });

  it('holds no sequence after all these refusals', () => {
    expectAllReleased(server);
  });
});
