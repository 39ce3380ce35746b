// RemoteBackend when the server misbehaves: killed mid-search, busy (429/503), garbage, slow, and a
// caller that aborts. Every case ends with a clear error and no node or request left behind.
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteBackend, RemoteBackendError } from '../../lib/backends/remote.js';
import { search } from '../../lib/search/search.js';
import { startFakeVllm, type FakeAction, type FakeVllm, type RecordedRequest } from '../helpers/fake-vllm.js';

const Q = 'What is 2 + 3?';
const servers: FakeVllm[] = [];
const backends: RemoteBackend[] = [];
afterEach(async () => {
  for (const b of backends.splice(0)) b.dispose();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(
  onRequest: (q: RecordedRequest) => FakeAction | undefined | Promise<FakeAction | undefined>,
  options: Partial<Parameters<typeof RemoteBackend.create>[0]> = {},
): Promise<{ server: FakeVllm; backend: RemoteBackend }> {
  const server = await startFakeVllm({ prm: 'fake-prm', onRequest });
  servers.push(server);
  const backend = await RemoteBackend.create({ baseUrl: server.url, prmModel: 'fake-prm', retries: 0, backoffMs: 1, ...options });
  backends.push(backend);
  return { server, backend };
}

/** Resolves when `cond` holds (polled), or fails after `ms`. */
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('RemoteBackend faults', () => {
  it('fails with a network error naming the server when it is killed mid-search, and frees every node', async () => {
    let server!: FakeVllm;
    const ready = await setup((q) => {
      if (q.path === '/pooling' && q.nth === 1) void server.kill();
      return q.path === '/pooling' && q.nth === 1 ? { hang: true } : undefined;
    });
    server = ready.server;
    const err = await search(Q, { backend: ready.backend, strategy: 'beam', n: 4, beamWidth: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteBackendError);
    const e = err as RemoteBackendError;
    expect(e.failure).toBe('network');
    expect(e.server).toBe(server.url);
    expect(e.message).toContain(`${server.url}/pooling`);
    expect(ready.backend.liveNodes).toBe(0);
    expect(ready.backend.inFlight).toBe(0);
  });

  it('retries a 429 (honouring Retry-After) and then succeeds', async () => {
    const { server, backend } = await setup(
      (q) => (q.path === '/v1/completions' && q.nth === 0 ? { status: 429, body: { error: { message: 'busy', type: 'TooManyRequests', param: null, code: 429 } }, headers: { 'retry-after': '0' } } : undefined),
      { retries: 2 },
    );
    const r = await search(Q, { backend, strategy: 'best-of-n', n: 1 });
    expect(r.answer).not.toBeNull();
    const gens = server.requests.filter((q) => q.path === '/v1/completions');
    expect(gens[0]!.body).toEqual(gens[1]!.body);
  });

  it('retries a 503 and a reset connection, then gives up with the attempt count', async () => {
    const { server, backend } = await setup((q) => (q.path === '/v1/completions' ? (q.nth % 2 === 0 ? { status: 503 } : { destroy: true }) : undefined), {
      retries: 3,
    });
    const err = (await search(Q, { backend, strategy: 'best-of-n', n: 1 }).catch((e: unknown) => e)) as RemoteBackendError;
    expect(err).toBeInstanceOf(RemoteBackendError);
    expect(err.attempts).toBe(4);
    expect(err.message).toMatch(/after 4 attempts/u);
    expect(server.requests.filter((q) => q.path === '/v1/completions')).toHaveLength(4);
  });

  it('does not retry a 400, and names the endpoint, status and the server’s message', async () => {
    const message = "This model's maximum context length is 4096 tokens.";
    const { server, backend } = await setup(
      (q) => (q.path === '/v1/completions' ? { status: 400, body: { error: { message, type: 'BadRequestError', param: 'prompt', code: 400 } } } : undefined),
      { retries: 3 },
    );
    const err = (await search(Q, { backend, strategy: 'best-of-n', n: 1 }).catch((e: unknown) => e)) as RemoteBackendError;
    expect(err).toBeInstanceOf(RemoteBackendError);
    expect(err.status).toBe(400);
    expect(err.serverMessage).toBe(message);
    expect(err.message).toBe(`POST ${server.url}/v1/completions: HTTP 400: ${message}`);
    expect(server.requests.filter((q) => q.path === '/v1/completions')).toHaveLength(1);
  });

  it('reads the flat error body of older vLLM releases', async () => {
    const { backend } = await setup((q) =>
      q.path === '/v1/completions' ? { status: 404, body: { object: 'error', message: 'The model `x` does not exist.', type: 'NotFoundError', param: null, code: 404 } } : undefined,
    );
    await expect(search(Q, { backend, strategy: 'best-of-n', n: 1 })).rejects.toThrow(/HTTP 404: The model `x` does not exist\./u);
  });

  it('gives a clear error for a body that is not JSON', async () => {
    const { backend } = await setup((q) => (q.path === '/v1/completions' ? { status: 200, raw: '<html>502 Bad Gateway</html>' } : undefined));
    const err = (await search(Q, { backend, strategy: 'best-of-n', n: 1 }).catch((e: unknown) => e)) as RemoteBackendError;
    expect(err).toBeInstanceOf(RemoteBackendError);
    expect(err.failure).toBe('protocol');
    expect(err.message).toMatch(/the response is not JSON: "<html>502 Bad Gateway<\/html>"/u);
    expect(backend.liveNodes).toBe(0);
  });

  it('gives a clear error for JSON in the wrong shape, naming the field', async () => {
    const { backend } = await setup((q) =>
      q.path === '/pooling' ? { status: 200, body: { object: 'list', data: [{ index: 0, data: 'oops' }], usage: { prompt_tokens: 1, total_tokens: 1 } } } : undefined,
    );
    const err = (await search(Q, { backend, strategy: 'beam', n: 2, beamWidth: 2 }).catch((e: unknown) => e)) as RemoteBackendError;
    expect(err).toBeInstanceOf(RemoteBackendError);
    expect(err.failure).toBe('protocol');
    expect(err.endpoint).toBe('POST /pooling');
    expect(err.message).toMatch(/base64|data\[0\]|outputs/u);
  });

  it('refuses a PRM output whose step rows do not match the steps sent (a pooler without step_tag_id)', async () => {
    const { backend } = await setup((q) =>
      q.path === '/pooling'
        ? { status: 200, body: { object: 'list', data: (q.body as { input: string[] }).input.map((_, index) => ({ index, object: 'pooling', data: [[0.5, 0.5], [0.4, 0.6], [0.3, 0.7]] })), usage: { prompt_tokens: 9, total_tokens: 9 } } }
        : undefined,
    );
    await expect(search(Q, { backend, strategy: 'beam', n: 2, beamWidth: 2 })).rejects.toThrow(/3 step rows for a text with 1 steps; is the server's pooler STEP/u);
  });

  it('times out a request that gets no answer, and closes its connection', async () => {
    const { server, backend } = await setup((q) => (q.path === '/v1/completions' ? { hang: true } : undefined), { timeoutMs: 150 });
    const started = Date.now();
    const err = (await search(Q, { backend, strategy: 'best-of-n', n: 2 }).catch((e: unknown) => e)) as RemoteBackendError;
    expect(err).toBeInstanceOf(RemoteBackendError);
    expect(err.failure).toBe('timeout');
    expect(err.message).toMatch(/no response within 150 ms/u);
    expect(Date.now() - started).toBeLessThan(5000);
    await until(() => server.abandoned >= 1 && server.open === 0);
    expect(backend.liveNodes).toBe(0);
  });

  it('cancels the requests in flight when the caller aborts: the server sees the connections close', async () => {
    const controller = new AbortController();
    let hanging = 0;
    const { server, backend } = await setup((q) => {
      if (q.path !== '/v1/completions') return undefined;
      if (++hanging === 4) setTimeout(() => controller.abort(), 10);
      return { hang: true };
    });
    const err = (await search(Q, { backend, strategy: 'best-of-n', n: 4, signal: controller.signal }).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('AbortError');
    await until(() => server.abandoned === 4 && server.open === 0);
    expect(backend.liveNodes).toBe(0);
    expect(backend.inFlight).toBe(0);
  });

  it('cancels the requests in flight on dispose()', async () => {
    const { server, backend } = await setup((q) => (q.path === '/v1/completions' ? { hang: true } : undefined));
    const running = search(Q, { backend, strategy: 'best-of-n', n: 2 }).catch((e: unknown) => e);
    await until(() => server.open === 2);
    backend.dispose();
    backend.dispose();
    expect(await running).toBeInstanceOf(Error);
    await until(() => server.abandoned === 2);
  });

  it('stops a failed call’s sibling requests as soon as one fails', async () => {
    let fake!: FakeVllm;
    const { server, backend } = await setup(async (q) => {
      if (q.path !== '/v1/completions') return undefined;
      if (q.nth > 0) return { hang: true };
      // The failure comes once all three requests are at the server.
      await until(() => fake.open === 3);
      return { status: 400, body: { error: { message: 'bad', type: 'BadRequestError', param: null, code: 400 } } };
    });
    fake = server;
    await expect(search(Q, { backend, strategy: 'best-of-n', n: 3 })).rejects.toThrow(/HTTP 400: bad/u);
    await until(() => server.open === 0);
    expect(server.abandoned).toBe(2);
  });

  it('says which server refused the connection at create()', async () => {
    const server = await startFakeVllm();
    const url = server.url;
    await server.close();
    const err = (await RemoteBackend.create({ baseUrl: url, retries: 1, backoffMs: 1 }).catch((e: unknown) => e)) as RemoteBackendError;
    expect(err).toBeInstanceOf(RemoteBackendError);
    expect(err.failure).toBe('network');
    expect(err.message).toMatch(new RegExp(`GET ${url}/v1/models: connection failed .*ECONNREFUSED.* \\(after 2 attempts\\)`, 'u'));
  });
});
