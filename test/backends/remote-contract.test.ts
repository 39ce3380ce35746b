// Contract tests: what the RemoteBackend sends matches the request shapes vLLM declares, and the
// responses vLLM documents (transcribed into test/fixtures/vllm with their sources) are read correctly.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteBackend, RemoteBackendError } from '../../lib/backends/remote.js';
import {
  parseChatCompletionChunk,
  parseClassifyResponse,
  parseCompletionRequest,
  parseCompletionResponse,
  parseModelList,
  parsePoolingRequest,
  parsePoolingResponse,
  readErrorBody,
  sseDataEvents,
  stepRows,
} from '../../lib/protocol/index.js';
import { search } from '../../lib/search/search.js';
import { startFakeVllm, type FakeAction, type FakeVllm, type RecordedRequest } from '../helpers/fake-vllm.js';

const DIR = fileURLToPath(new URL('../fixtures/vllm/', import.meta.url));
const fixture = <T = { body: Record<string, unknown> }>(name: string): T => JSON.parse(readFileSync(DIR + name, 'utf8')) as T;
const Q = 'What is 3 + 4?';

const servers: FakeVllm[] = [];
const backends: RemoteBackend[] = [];
afterEach(async () => {
  for (const b of backends.splice(0)) b.dispose();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(
  onRequest?: (q: RecordedRequest) => FakeAction | undefined,
  options: Partial<Parameters<typeof RemoteBackend.create>[0]> = {},
): Promise<{ server: FakeVllm; backend: RemoteBackend }> {
  const server = await startFakeVllm({ prm: 'fake-prm', onRequest });
  servers.push(server);
  const backend = await RemoteBackend.create({ baseUrl: server.url, prmModel: 'fake-prm', retries: 0, ...options });
  backends.push(backend);
  return { server, backend };
}

/** The JSON type names of the fields fixtures: string, number, integer, boolean, null, T[] and T[][]. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    const inner = [...new Set(v.map(jsonType))];
    return inner.length === 1 ? `${inner[0]}[]` : 'mixed[]';
  }
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function expectFieldsMatch(body: Record<string, unknown>, fields: Record<string, string[]>): void {
  for (const [key, value] of Object.entries(body)) {
    expect(Object.keys(fields), `field ${key} is not one vLLM declares`).toContain(key);
    const t = jsonType(value);
    // An integer is also a valid float field.
    const ok = fields[key]!.includes(t) || (t === 'integer' && fields[key]!.includes('number'));
    expect(ok, `${key}: ${t} is not one of ${fields[key]!.join(', ')}`).toBe(true);
  }
}

describe('requests the RemoteBackend sends match vLLM’s declared shapes', () => {
  it('completions: only CompletionRequest fields, each with a type vLLM admits', async () => {
    const { fields } = fixture<{ fields: Record<string, string[]> }>('completions-request-fields.json');
    const { server, backend } = await setup(undefined, { promptArrays: true, tokenIds: false });
    await search(Q, { backend, strategy: 'beam', n: 4, beamWidth: 2, topK: 10 });
    const withIds = await RemoteBackend.create({ baseUrl: server.url, prmModel: 'fake-prm', retries: 0, promptArrays: true, tokenIds: true });
    backends.push(withIds);
    await search(Q, { backend: withIds, strategy: 'beam', n: 4, beamWidth: 2 });
    const bodies = server.requests.filter((q) => q.path === '/v1/completions').map((q) => q.body as Record<string, unknown>);
    expect(bodies.some((b) => Array.isArray(b.prompt) && typeof b.prompt[0] === 'string')).toBe(true);
    expect(bodies.some((b) => Array.isArray(b.prompt) && Array.isArray(b.prompt[0]))).toBe(true);
    for (const b of bodies) expectFieldsMatch(b, fields);
  });

  it('pooling: only PoolingCompletionRequest fields, a known task and float encoding', async () => {
    const spec = fixture<{ fields: Record<string, string[]>; tasks: string[]; encoding_formats: string[] }>('pooling-request-fields.json');
    const { server, backend } = await setup();
    await search(Q, { backend, strategy: 'beam', n: 4, beamWidth: 2 });
    const bodies = server.requests.filter((q) => q.path === '/pooling').map((q) => q.body as Record<string, unknown>);
    expect(bodies.length).toBeGreaterThan(0);
    for (const b of bodies) {
      expectFieldsMatch(b, spec.fields);
      expect(spec.tasks).toContain(b.task);
      expect(spec.encoding_formats).toContain(b.encoding_format);
      // The layout is complete text (chat template applied), so no BOS is added.
      expect(b.add_special_tokens).toBe(false);
    }
  });

  it('pooling without a task field for servers older than the task routing (prmTask: null)', async () => {
    const { server, backend } = await setup(undefined, { prmTask: null });
    await search(Q, { backend, strategy: 'best-of-n', n: 2 });
    const body = server.requests.find((q) => q.path === '/pooling')!.body as Record<string, unknown>;
    expect('task' in body).toBe(false);
  });
});

describe('vLLM’s documented bodies parse', () => {
  it('the completions request example (server side)', () => {
    const req = parseCompletionRequest(fixture('completions-request-example.json').body);
    expect(req).toMatchObject({ prompt: 'A robot may not injure a human being', n: 2, logprobs: 3, echo: false });
  });

  it('the pooling request examples (server side), including the PRM one', () => {
    expect(parsePoolingRequest(fixture('pooling-request-example.json').body).task).toBe('embed');
    const prm = fixture<{ request: unknown }>('pooling-response-prm.json').request;
    expect(parsePoolingRequest(prm)).toMatchObject({ task: 'token_classify', input: 'Hello, my name is<extra_0><extra_0><extra_0>' });
  });

  it('a completions response: choices, logprobs, finish and stop reasons, usage', () => {
    const res = parseCompletionResponse(fixture('completions-response.json').body);
    expect(res.choices.map((c) => [c.finish_reason, c.stop_reason])).toEqual([
      ['stop', '\n\n'],
      ['stop', null],
      ['length', null],
    ]);
    expect(res.choices[0]!.logprobs!.tokens.join('')).toBe(res.choices[0]!.text);
    expect(res.usage).toMatchObject({ prompt_tokens: 41, completion_tokens: 19, total_tokens: 60 });
  });

  it('a prompt-array response, sorted back into prompt order', () => {
    const res = parseCompletionResponse(fixture('completions-response-prompt-array.json').body);
    expect(res.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(res.usage.prompt_tokens_details).toEqual({ cached_tokens: 80 });
  });

  it('the PRM’s pooling response: one row of two class probabilities per step tag', () => {
    const f = fixture<{ body: unknown; newestStepReward: number }>('pooling-response-prm.json');
    const res = parsePoolingResponse(f.body);
    const rows = stepRows(res.data[0]!);
    expect(rows).toHaveLength(3);
    expect(rows.at(-1)![1]).toBe(f.newestStepReward);
  });

  it('a classification response, the models list and both error bodies', () => {
    expect(parseClassifyResponse(fixture('classify-response.json').body).data.map((d) => d.probs[1])).toEqual([0.875, 0.25]);
    const models = parseModelList(fixture('models-response.json').body);
    expect(models.data[0]).toMatchObject({ id: 'Qwen/Qwen2.5-Math-1.5B-Instruct', root: 'Qwen/Qwen2.5-Math-1.5B-Instruct', max_model_len: 4096 });
    expect(readErrorBody(fixture('error-response.json').body)).toMatchObject({ type: 'BadRequestError', code: 400 });
    expect(readErrorBody(fixture('error-response-flat.json').body)).toMatchObject({ message: 'The model `gpt-4` does not exist.', code: 404 });
  });

  it('a streamed chat completion: chunks up to [DONE], content deltas and the usage chunk', () => {
    const events = sseDataEvents(readFileSync(DIR + 'chat-completion-stream.sse', 'utf8')).map((e) => parseChatCompletionChunk(JSON.parse(e)));
    expect(events).toHaveLength(4);
    expect(events[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(events.flatMap((e) => e.choices.map((c) => c.delta.content ?? '')).join('')).toBe('3 + 4 = 7');
    expect(events[2]!.choices[0]!.finish_reason).toBe('stop');
    expect(events[3]!.usage).toMatchObject({ prompt_tokens: 20, completion_tokens: 4 });
  });
});

describe('the RemoteBackend reads vLLM’s documented responses', () => {
  it('maps finish_reason / stop_reason to stop, eos and length, with tokens and log-probabilities', async () => {
    const body = fixture('completions-response.json').body as { choices: Record<string, unknown>[] };
    const { backend } = await setup((q) =>
      q.path === '/v1/completions' ? { status: 200, body: { ...body, choices: [{ ...body.choices[q.nth]!, index: 0 }] } } : undefined,
    );
    const root = await backend.createRoot(Q, { seed: 1, withPrm: false });
    const kids = await backend.fork([root.node, root.node, root.node]);
    const sampling = { temperature: 0.8, topP: 1, topK: 0, maxTokens: 7, stop: ['\n\n'] };
    const steps = [];
    for (const k of kids) steps.push((await backend.generate([k], sampling))[0]!);
    expect(steps.map((s) => s.finish)).toEqual(['stop', 'eos', 'length']);
    expect(steps.map((s) => s.text)).toEqual(body.choices.map((c) => c.text));
    expect(steps.map((s) => s.tokens)).toEqual([7, 5, 7]);
    expect(steps[0]!.logprob).toBeCloseTo(-0.31 - 0.02 - 0.11 - 0.01 - 0.04 - 0.2 - 0.05, 12);
    await backend.release([root.node, ...kids]);
    expect(backend.liveNodes).toBe(0);
  });

  it('puts back a stop string the server trimmed (SGLang names it matched_stop)', async () => {
    const { backend } = await setup((q) =>
      q.path === '/v1/completions'
        ? { status: 200, body: { id: 'x', object: 'text_completion', created: 0, model: 'fake-policy', choices: [{ index: 0, text: 'First, 3 + 4 = 7.', logprobs: null, finish_reason: 'stop', matched_stop: '\n\n' }], usage: { prompt_tokens: 10, completion_tokens: 6, total_tokens: 16 } } }
        : undefined,
    );
    const root = await backend.createRoot(Q, { seed: 1, withPrm: false });
    const [step] = await backend.generate([root.node], { temperature: 1, topP: 1, topK: 0, maxTokens: 32, stop: ['\n\n'] });
    expect(step).toMatchObject({ text: 'First, 3 + 4 = 7.\n\n', finish: 'stop', tokens: 6 });
  });

  it('splits a prompt-array response back to its nodes, counting the uncached prompt tokens as prefilled', async () => {
    const body = fixture('completions-response-prompt-array.json').body;
    const { backend } = await setup((q) => (q.path === '/v1/completions' ? { status: 200, body } : undefined), { promptArrays: true });
    const a = await backend.createRoot('Solve x + 1 = 4.', { seed: 1, withPrm: false });
    const b = await backend.createRoot('Then subtract 2 from 7.', { seed: 1, withPrm: false });
    const steps = await backend.generate([a.node, b.node], { temperature: 1, topP: 1, topK: 0, maxTokens: 32, stop: ['\n\n'] });
    expect(steps.map((s) => s.text)).toEqual(['So $x = 3$.\n\n', 'Then 7 - 2 = 5.\n\n']);
    expect(steps.map((s) => s.prefilled!.tokens).reduce((x, y) => x + y, 0)).toBe(96 - 80);
    expect(steps.map((s) => s.prefilled!.context).reduce((x, y) => x + y, 0)).toBe(80);
  });

  it('takes the newest step’s class-1 probability from the PRM’s pooling response', async () => {
    const f = fixture<{ body: unknown; newestStepReward: number }>('pooling-response-prm.json');
    const { backend } = await setup((q) => (q.path === '/pooling' && q.nth === 2 ? { status: 200, body: f.body } : undefined));
    const root = await backend.createRoot(Q, { seed: 1, withPrm: true });
    await backend.score([root.node], ['Step one.']);
    await backend.score([root.node], ['Step two.']);
    const res = await backend.score([root.node], ['Step three.']);
    expect(res.rewards).toEqual([f.newestStepReward]);
    expect(res.tokens).toEqual([8]);
  });

  it('takes class 1 of each /classify distribution as the outcome reward', async () => {
    const { body } = fixture('classify-response.json');
    const { backend } = await setup((q) => (q.path === '/classify' ? { status: 200, body } : undefined), { prmEndpoint: 'classify' });
    const a = await backend.createRoot(Q, { seed: 1, withPrm: true });
    const b = await backend.createRoot(Q, { seed: 2, withPrm: true });
    const res = await backend.score([a.node, b.node], ['7.', '8.']);
    expect(res.rewards).toEqual([0.875, 0.25]);
    expect(res.tokens.reduce((x, y) => x + y, 0)).toBe(57);
  });

  it('names the model and identity from a vLLM model list', async () => {
    const { body } = fixture('models-response.json');
    const server = await startFakeVllm({ onRequest: (q) => (q.path === '/v1/models' ? { status: 200, body } : undefined) });
    servers.push(server);
    const backend = await RemoteBackend.create({ baseUrl: server.url });
    backends.push(backend);
    expect(backend.policy).toEqual({ name: 'Qwen/Qwen2.5-Math-1.5B-Instruct', id: 'Qwen/Qwen2.5-Math-1.5B-Instruct' });
    expect(backend.info.policyParams).toBe(1.5e9);
  });

  it('reports vLLM’s error body in its error', async () => {
    const f = fixture<{ status: number; body: { error: { message: string } } }>('error-response.json');
    const { backend } = await setup((q) => (q.path === '/v1/completions' ? { status: f.status, body: f.body } : undefined));
    const err = (await search(Q, { backend, strategy: 'best-of-n', n: 1 }).catch((e: unknown) => e)) as RemoteBackendError;
    expect(err).toBeInstanceOf(RemoteBackendError);
    expect(err.status).toBe(400);
    expect(err.serverMessage).toBe(f.body.error.message);
  });
});
