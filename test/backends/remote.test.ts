// RemoteBackend end to end: every strategy through search() against a scripted vLLM stand-in on
// loopback, the requests it sends, determinism under fixed seeds, and usage accounting.
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteBackend } from '../../lib/backends/remote.js';
import { CALIBRATION_VERSION, type CalibrationTable } from '../../lib/search/calibration-table.js';
import { search } from '../../lib/search/search.js';
import { STRATEGY_NAMES, type StrategyName } from '../../lib/search/types.js';
import { OptionError } from '../../lib/errors.js';
import { startFakeVllm, type FakeVllm } from '../helpers/fake-vllm.js';

const Q = 'Tom has 3 apples and buys 4 more. How many apples does he have?';
const ROOTS = { 'fake-policy': 'policy@1111', 'fake-prm': 'prm@2222' };

const servers: FakeVllm[] = [];
const backends: RemoteBackend[] = [];
afterEach(async () => {
  for (const b of backends.splice(0)) b.dispose();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fake(options: Parameters<typeof startFakeVllm>[0] = {}): Promise<FakeVllm> {
  const s = await startFakeVllm({ prm: 'fake-prm', roots: ROOTS, ...options });
  servers.push(s);
  return s;
}

async function remote(server: FakeVllm, options: Partial<Parameters<typeof RemoteBackend.create>[0]> = {}): Promise<RemoteBackend> {
  // Text prompts unless a test asks for ids (the stand-in returns them to vLLM's return_token_ids).
  const b = await RemoteBackend.create({ baseUrl: server.url, prmModel: 'fake-prm', retries: 0, tokenIds: false, ...options });
  backends.push(b);
  return b;
}

/** A table that runs beam search at every difficulty (the one thing compute-optimal needs from it). */
const table: CalibrationTable = {
  version: CALIBRATION_VERSION,
  policyId: ROOTS['fake-policy'],
  prmId: ROOTS['fake-prm'],
  difficultySamples: 2,
  aggregation: 'last',
  thresholds: [0.2, 0.4, 0.6, 0.8],
  choices: {
    '4': Object.fromEntries([1, 2, 3, 4, 5].map((l) => [String(l), { strategy: 'beam' as StrategyName, params: { beamWidth: 2 } }])),
  },
} as CalibrationTable;

const optionsFor = (strategy: StrategyName) =>
  strategy === 'compute-optimal'
    ? { n: 6, calibration: table }
    : strategy === 'revisions' || strategy === 'mcts'
      ? { n: 4 }
      : { n: 4, beamWidth: 2 };

describe('RemoteBackend over a vLLM-shaped server', () => {
  it.each(STRATEGY_NAMES.map((s) => [s]))('runs %s end to end and holds no node afterwards', async (strategy) => {
    const server = await fake();
    const backend = await remote(server);
    const r = await search(Q, { backend, strategy, maxIterations: 5, ...optionsFor(strategy) });
    expect(r.candidates.length).toBeGreaterThan(0);
    expect(r.answer).toMatch(/^[123]$/u);
    expect(backend.liveNodes).toBe(0);
    expect(r.usage.policyTokensGenerated).toBeGreaterThan(0);
    if (strategy !== 'majority') expect(server.requests.some((q) => q.path === '/pooling')).toBe(true);
  });

  it('sends each node its whole text with vLLM’s sampling fields, keeping the stop string', async () => {
    const server = await fake();
    const backend = await remote(server);
    const r = await search(Q, { backend, strategy: 'beam', n: 4, beamWidth: 2, seed: 7, temperature: 0.7, topK: 20, maxStepTokens: 50 });
    const gens = server.requests.filter((q) => q.path === '/v1/completions').map((q) => q.body as Record<string, unknown>);
    expect(gens[0]).toMatchObject({
      model: 'fake-policy',
      prompt: `<|im_start|>user\n${Q}<|im_end|>\n<|im_start|>assistant\n`,
      n: 1,
      max_tokens: 50,
      temperature: 0.7,
      top_p: 1,
      top_k: 20,
      stop: ['\n\n'],
      include_stop_str_in_output: true,
      logprobs: 1,
      skip_special_tokens: true,
    });
    expect(Number.isInteger(gens[0]!.seed)).toBe(true);
    // A later request for a node carries its steps so far after the prompt.
    const deep = r.tree.find((n) => n.depth === 2 && n.kind === 'step')!;
    const parent = r.tree.find((n) => n.id === deep.parent)!;
    expect(gens.some((g) => g.prompt === `<|im_start|>user\n${Q}<|im_end|>\n<|im_start|>assistant\n${parent.stepText}`)).toBe(true);
    for (const n of r.tree.filter((x) => x.finish === 'stop')) expect(n.stepText.endsWith('\n\n')).toBe(true);
  });

  it('omits top_k when it is disabled (0), as vLLM and SGLang read an absent top_k', async () => {
    const server = await fake();
    const backend = await remote(server);
    await search(Q, { backend, strategy: 'best-of-n', n: 2, topK: 0 });
    const body = server.requests.find((q) => q.path === '/v1/completions')!.body as Record<string, unknown>;
    expect('top_k' in body).toBe(false);
  });

  it('gives forked siblings different seeds and builds the same tree when the search is rerun', async () => {
    const server = await fake();
    const run = async () => search(Q, { backend: await remote(server), strategy: 'beam', n: 8, beamWidth: 2, seed: 3 });
    const a = await run();
    const firstSeeds = server.requests.filter((q) => q.path === '/v1/completions').slice(0, 8).map((q) => (q.body as { seed: number }).seed);
    expect(new Set(firstSeeds).size).toBe(8);
    const b = await run();
    const shape = (t: typeof a.tree) => t.map((n) => [n.parent, n.stepText, n.prmScore, n.finish]);
    expect(shape(b.tree)).toEqual(shape(a.tree));
    const c = await search(Q, { backend: await remote(server), strategy: 'beam', n: 8, beamWidth: 2, seed: 4 });
    expect(shape(c.tree)).not.toEqual(shape(a.tree));
  });

  it('sends the PRM the Qwen2.5-Math-PRM layout, one request per batch, and reads the newest step’s class-1 probability', async () => {
    const server = await fake();
    const backend = await remote(server);
    const r = await search(Q, { backend, strategy: 'beam', n: 4, beamWidth: 2 });
    const pools = server.requests.filter((q) => q.path === '/pooling');
    const gens = server.requests.filter((q) => q.path === '/v1/completions');
    expect(pools.length).toBeLessThan(gens.length);
    const body = pools[0]!.body as { input: string[]; task: string; model: string };
    expect(body.model).toBe('fake-prm');
    expect(body.task).toBe('token_classify');
    expect(body.input).toHaveLength(4);
    const system = 'Please reason step by step, and put your final answer within \\boxed{}.';
    const head = `<|im_start|>system\n${system}<|im_end|>\n<|im_start|>user\n${Q}<|im_end|>\n<|im_start|>assistant\n`;
    for (const text of body.input) expect(text).toMatch(new RegExp(`^${head.replace(/[\\^$.*+?()[\]{}|]/gu, '\\$&')}[^]*<extra_0>$`, 'u'));
    // A depth-2 step's reward is the fake's probability for the text up to its second tag.
    const deep = r.tree.find((n) => n.depth === 2 && n.kind === 'step' && n.prmScore !== null)!;
    const parent = r.tree.find((n) => n.id === deep.parent)!;
    const text = `${head}${parent.stepText.trim()}<extra_0>${deep.stepText.trim()}<extra_0>`;
    const pool = pools.find((q) => (q.body as { input: string[] }).input.includes(text));
    expect(pool).toBeDefined();
  });

  it('counts resubmitted prompt tokens as prefilled and PRM inputs as scored, from the servers’ usage', async () => {
    const server = await fake();
    const backend = await remote(server);
    const r = await search(Q, { backend, strategy: 'beam', n: 4, beamWidth: 2 });
    const gens = server.requests.filter((q) => q.path === '/v1/completions');
    const promptTokens = gens.reduce((a, q) => a + Math.max(1, Math.ceil(String((q.body as { prompt: string }).prompt).length / 4)), 0);
    expect(r.usage.policyTokensPrefilled).toBe(promptTokens);
    const pools = server.requests.filter((q) => q.path === '/pooling');
    const prmTokens = pools.reduce((a, q) => a + (q.body as { input: string[] }).input.reduce((s, t) => s + Math.max(1, Math.ceil(t.length / 4)), 0), 0);
    expect(r.usage.prmTokensScored).toBe(prmTokens);
    const generated = r.tree.reduce((a, n) => a + n.tokens, 0);
    expect(r.usage.policyTokensGenerated).toBe(generated);
  });

  it('counts only the uncached part of a prompt as prefilled when the server reports cached tokens', async () => {
    const server = await fake({ cachedShare: 0.75 });
    const backend = await remote(server);
    const r = await search(Q, { backend, strategy: 'best-of-n', n: 2 });
    const prompts = server.requests.filter((q) => q.path === '/v1/completions').map((q) => Math.max(1, Math.ceil(String((q.body as { prompt: string }).prompt).length / 4)));
    expect(r.usage.policyTokensPrefilled).toBe(prompts.reduce((a, p) => a + p - Math.floor(p * 0.75), 0));
  });

  it('sends a prompt array per generate call when asked, never the same prompt twice in one request', async () => {
    const server = await fake();
    const backend = await remote(server, { promptArrays: true });
    const r = await search(Q, { backend, strategy: 'beam', n: 4, beamWidth: 2 });
    const gens = server.requests.filter((q) => q.path === '/v1/completions').map((q) => q.body as { prompt: string | string[] });
    // The first call: four identical root prompts, so four requests of one; later calls: arrays.
    expect(gens.slice(0, 4).every((g) => typeof g.prompt === 'string')).toBe(true);
    expect(gens.some((g) => Array.isArray(g.prompt) && g.prompt.length > 1)).toBe(true);
    for (const g of gens) if (Array.isArray(g.prompt)) expect(new Set(g.prompt).size).toBe(g.prompt.length);
    expect(r.answer).toMatch(/^[123]$/u);
    expect(backend.liveNodes).toBe(0);
  });

  it('resubmits the token ids the server returned, with tokenIds, and builds the same tree as with text', async () => {
    const server = await fake();
    const byText = await search(Q, { backend: await remote(server), strategy: 'beam', n: 4, beamWidth: 2, seed: 5 });
    const textRequests = server.requests.length;
    const byIds = await search(Q, { backend: await remote(server, { tokenIds: true }), strategy: 'beam', n: 4, beamWidth: 2, seed: 5 });
    const shape = (t: typeof byText.tree) => t.map((n) => [n.parent, n.stepText, n.prmScore]);
    expect(shape(byIds.tree)).toEqual(shape(byText.tree));
    const gens = server.requests.slice(textRequests).filter((q) => q.path === '/v1/completions').map((q) => q.body as { prompt: unknown; return_token_ids?: boolean });
    expect(gens.every((g) => g.return_token_ids === true)).toBe(true);
    // The first step goes out as text, every later one as the ids the server returned.
    expect(gens.slice(0, 4).every((g) => typeof g.prompt === 'string')).toBe(true);
    expect(gens.slice(4).every((g) => Array.isArray(g.prompt) && (g.prompt as unknown[]).every((x) => Number.isInteger(x)))).toBe(true);
  });

  it('batches token-id prompts as arrays of id arrays, never mixed with text prompts', async () => {
    const server = await fake();
    const r = await search(Q, { backend: await remote(server, { tokenIds: true, promptArrays: true }), strategy: 'beam', n: 4, beamWidth: 2 });
    expect(r.answer).toMatch(/^[123]$/u);
    const prompts = server.requests.filter((q) => q.path === '/v1/completions').map((q) => (q.body as { prompt: unknown }).prompt);
    const arrays = prompts.filter((p) => Array.isArray(p) && Array.isArray(p[0]));
    expect(arrays.length).toBeGreaterThan(0);
    for (const a of arrays as unknown[][]) expect(a.every((x) => Array.isArray(x))).toBe(true);
  });

  it('asks for token ids by default and uses them when they come, text when they do not', async () => {
    const server = await fake();
    const backend = await RemoteBackend.create({ baseUrl: server.url, prmModel: 'fake-prm' });
    backends.push(backend);
    await search(Q, { backend, strategy: 'beam', n: 2, beamWidth: 2 });
    const gens = server.requests.filter((q) => q.path === '/v1/completions').map((q) => q.body as { prompt: unknown; return_token_ids?: boolean });
    expect(gens.every((g) => g.return_token_ids === true)).toBe(true);
    expect(gens.slice(2).every((g) => Array.isArray(g.prompt))).toBe(true);
    // A server that ignores return_token_ids (older vLLM, SGLang) gets text.
    const plain = await fake({
      onRequest: (q) => {
        if (q.path !== '/v1/completions') return undefined;
        return { status: 200, body: { id: 'x', object: 'text_completion', created: 0, model: 'fake-policy', choices: [{ index: 0, text: 'a\n\n', logprobs: null, finish_reason: 'stop', stop_reason: '\n\n' }], usage: { prompt_tokens: 3, total_tokens: 5, completion_tokens: 2 } } };
      },
    });
    const b2 = await RemoteBackend.create({ baseUrl: plain.url, prmModel: 'fake-prm' });
    backends.push(b2);
    await search(Q, { backend: b2, strategy: 'best-of-n', n: 1, maxIterations: 2 });
    const prompts = plain.requests.filter((q) => q.path === '/v1/completions').map((q) => (q.body as { prompt: unknown }).prompt);
    expect(prompts.length).toBe(2);
    expect(prompts.every((p) => typeof p === 'string')).toBe(true);
  });

  it('stops asking for token ids when the server refuses the field', async () => {
    const server = await fake({
      onRequest: (q) =>
        q.path === '/v1/completions' && 'return_token_ids' in (q.body as object)
          ? { status: 400, body: { error: { message: "Unknown field 'return_token_ids'", type: 'BadRequestError', param: 'return_token_ids', code: 400 } } }
          : undefined,
    });
    const backend = await RemoteBackend.create({ baseUrl: server.url, prmModel: 'fake-prm', retries: 0 });
    backends.push(backend);
    const r = await search(Q, { backend, strategy: 'beam', n: 2, beamWidth: 2 });
    expect(r.answer).toMatch(/^[123]$/u);
    const asked = server.requests.filter((q) => q.path === '/v1/completions' && 'return_token_ids' in (q.body as object));
    expect(asked.length).toBeLessThanOrEqual(2);
  });

  it('says so when tokenIds is on and the server returns no token ids', async () => {
    const server = await fake({ onRequest: (q) => (q.path === '/v1/completions' ? { status: 200, body: { id: 'x', object: 'text_completion', created: 0, model: 'fake-policy', choices: [{ index: 0, text: 'a\n\n', logprobs: null, finish_reason: 'stop', stop_reason: '\n\n' }], usage: { prompt_tokens: 3, total_tokens: 5, completion_tokens: 2 } } } : undefined) });
    const backend = await remote(server, { tokenIds: true });
    await expect(search(Q, { backend, strategy: 'best-of-n', n: 1 })).rejects.toThrow(/no prompt_token_ids; the tokenIds option needs a server that returns them/u);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const server = await fake({
      onRequest: async (q) => {
        if (q.path !== '/v1/completions') return undefined;
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        return undefined;
      },
    });
    const backend = await remote(server, { concurrency: 3 });
    await search(Q, { backend, strategy: 'best-of-n', n: 8 });
    expect(most).toBe(3);
  });

  it('scores finished candidates through /classify when the server has only a sequence reward', async () => {
    const server = await fake();
    const backend = await remote(server, { prmEndpoint: 'classify' });
    const r = await search(Q, { backend, strategy: 'best-of-n', n: 3 });
    const calls = server.requests.filter((q) => q.path === '/classify');
    expect(calls.length).toBeGreaterThan(0);
    expect(server.requests.some((q) => q.path === '/pooling')).toBe(false);
    const input = (calls.at(-1)!.body as { input: string[] }).input[0]!;
    expect(input.startsWith(`<|im_start|>user\n${Q}<|im_end|>\n<|im_start|>assistant\n`)).toBe(true);
    for (const c of r.candidates) expect(c.stepScores.length).toBe(c.steps.length);
  });

  it('sends the bearer token', async () => {
    const server = await fake({ apiKey: 'sekret' });
    const backend = await remote(server, { apiKey: 'sekret' });
    await search(Q, { backend, strategy: 'best-of-n', n: 1 });
    expect(server.requests.every((q) => q.headers.authorization === 'Bearer sekret')).toBe(true);
  });

  it('resolves the model names and identities from /v1/models', async () => {
    const server = await fake();
    const backend = await RemoteBackend.create({ baseUrl: `${server.url}/v1`, findPrm: true });
    backends.push(backend);
    expect(backend.policy).toEqual({ name: 'fake-policy', id: 'policy@1111' });
    expect(backend.prm).toEqual({ name: 'fake-prm', id: 'prm@2222' });
    expect(backend.info).toMatchObject({ policyId: 'policy@1111', prmId: 'prm@2222' });
    expect(backend.info.prmParams).toBeGreaterThan(0);
  });

  it('has no PRM unless one is named or found, and a PRM strategy then says so', async () => {
    const server = await fake();
    const backend = await RemoteBackend.create({ baseUrl: server.url });
    backends.push(backend);
    expect(backend.prm).toBeNull();
    await expect(search(Q, { backend, strategy: 'beam', n: 4 })).rejects.toThrow(/PRM/u);
    const r = await search(Q, { backend, strategy: 'majority', n: 2 });
    expect(r.answer).toMatch(/^[123]$/u);
  });

  it('refuses an unknown option, a model the server does not serve, and a bad URL', async () => {
    const server = await fake();
    await expect(RemoteBackend.create({ baseUrl: server.url, modle: 'x' } as never)).rejects.toThrow(OptionError);
    await expect(RemoteBackend.create({ baseUrl: server.url, model: 'gpt-9' })).rejects.toThrow(/does not serve `gpt-9`/u);
    await expect(RemoteBackend.create({ baseUrl: 'ftp://example' })).rejects.toThrow(/http\(s\) URL/u);
    await expect(RemoteBackend.create({ baseUrl: server.url, concurrency: 0 })).rejects.toThrow(/concurrency/u);
  });

  it('refuses a step that contains the PRM’s step tag', async () => {
    const server = await fake();
    const backend = await remote(server);
    const root = await backend.createRoot(Q, { seed: 1, withPrm: true });
    await expect(backend.score([root.node], ['x <extra_0> y'])).rejects.toThrow(/<extra_0>/u);
    await backend.release([root.node]);
  });
});
