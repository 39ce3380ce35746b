// RemoteBackend against `thinktree serve` on the shipped demo models, over loopback: every strategy end
// to end, usage from the server's counts, and every KV page back in the server's pools afterwards.
//
// The same beam search in process and over HTTP do not build the same tree: the native backend keeps one
// sampler per sequence whose state advances token by token and is forked with the sequence, while the
// HTTP protocol carries only a seed per request, so each remote step is sampled from a fresh generator
// seeded by (node seed, step count). What is tested instead: over HTTP, reruns with the same seed build
// the same tree; greedy decoding, which has no sampler state, gives the native backend's whole tree when
// nodes travel as token ids (return_token_ids, the default) and its first step when they travel as text
// (the server re-tokenizes a node's text, see below); and the PRM's rewards over /pooling equal the
// in-process PRM's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteBackend } from '../../lib/backends/remote.js';
import { loadCalibration } from '../../lib/eval/calibration-file.js';
import { demoModels } from '../../lib/demo-models.js';
import { search } from '../../lib/search/search.js';
import { STRATEGY_NAMES, type StrategyName } from '../../lib/search/types.js';
import { serve, type ServerHandle } from '../../lib/server/server.js';

const Q = 'Sam has 12 marbles. He gives away 5 marbles and then finds 3 more. How many marbles does Sam have now?';
let server: ServerHandle;
let backend: RemoteBackend;

beforeAll(async () => {
  server = await serve({ port: 0, threads: 1 });
  backend = await RemoteBackend.create({ baseUrl: server.url, findPrm: true, retries: 0, policyTokenizer: demoModels.policy });
});
afterAll(async () => {
  backend?.dispose();
  await server?.close();
});

const optionsFor = async (strategy: StrategyName) =>
  strategy === 'compute-optimal'
    ? { n: 8, calibration: await loadCalibration(demoModels.calibration) }
    : strategy === 'revisions' || strategy === 'mcts'
      ? { n: 4 }
      : { n: 4, beamWidth: 2 };

describe('RemoteBackend against thinktree serve (demo models)', () => {
  it('finds the served policy and PRM with their checkpoint identities', () => {
    expect(backend.info.policyId).toBe(server.engine.backend.info.policyId);
    expect(backend.info.prmId).toBe(server.engine.backend.info.prmId);
  });

  it.each(STRATEGY_NAMES.map((s) => [s]))('runs %s end to end, returning every KV page', async (strategy) => {
    const r = await search(Q, { backend, strategy, maxIterations: 6, maxStepTokens: 48, ...(await optionsFor(strategy)) });
    expect(r.candidates.length).toBeGreaterThan(0);
    expect(r.usage.policyTokensGenerated).toBe(r.tree.reduce((a, n) => a + n.tokens, 0));
    expect(r.usage.policyTokensPrefilled).toBeGreaterThan(0);
    if (strategy !== 'majority') expect(r.usage.prmTokensScored).toBeGreaterThan(0);
    expect(backend.liveNodes).toBe(0);
    const kv = server.engine.kvStats();
    expect([kv.policy.pagesInUse, kv.prm?.pagesInUse]).toEqual([0, 0]);
  });

  it('builds the same tree when a seeded search is rerun', async () => {
    const run = () => search(Q, { backend, strategy: 'beam', n: 4, beamWidth: 2, seed: 11, maxIterations: 4, maxStepTokens: 48 });
    const a = await run();
    const b = await run();
    const shape = (t: typeof a.tree) => t.map((n) => [n.parent, n.stepText, n.prmScore]);
    expect(shape(b.tree)).toEqual(shape(a.tree));
  });

  it('decodes the first step greedily as the in-process backend does when nodes travel as text', async () => {
    // Only the first: later requests carry the node's text, which the server tokenizes afresh, and text
    // can tokenize differently from the tokens that generated it (around a step's end), so later greedy
    // steps may differ from the native backend's, which keeps the generated tokens.
    const asText = await RemoteBackend.create({ baseUrl: server.url, findPrm: true, retries: 0, tokenIds: false });
    const options = { strategy: 'beam' as const, n: 2, beamWidth: 2, temperature: 0, maxIterations: 1, maxStepTokens: 48 };
    const remote = await search(Q, { backend: asText, ...options });
    asText.dispose();
    const local = await server.engine.search(Q, options);
    const firstSteps = (t: typeof remote.tree) => t.filter((n) => n.depth === 1).map((n) => n.stepText);
    expect(firstSteps(remote.tree)).toEqual(firstSteps(local.tree));
    expect(firstSteps(remote.tree)[0]).not.toBe('');
  });

  it('decodes greedily to the in-process backend’s steps when nodes travel as token ids', async () => {
    const withIds = await RemoteBackend.create({ baseUrl: server.url, findPrm: true, retries: 0, tokenIds: true });
    try {
      const options = { strategy: 'beam' as const, n: 2, beamWidth: 2, temperature: 0, maxIterations: 4, maxStepTokens: 48 };
      const remote = await search(Q, { backend: withIds, ...options });
      const local = await server.engine.search(Q, options);
      expect(remote.tree.map((n) => n.stepText)).toEqual(local.tree.map((n) => n.stepText));
      expect(remote.answer).toBe(local.answer);
    } finally {
      withIds.dispose();
    }
  });

  it('scores a step as the in-process PRM does', async () => {
    const steps = ['Sam starts with 12 marbles and gives away 5, so 12 - 5 = 7.\n\n', 'Then he finds 3 more: 7 + 3 = 10. The answer is \\boxed{10}.'];
    const root = await backend.createRoot(Q, { seed: 1, withPrm: true });
    const remote = [];
    for (const s of steps) remote.push((await backend.score([root.node], [s])).rewards[0]!);
    await backend.release([root.node]);
    const local = server.engine.backend;
    const lroot = await local.createRoot(Q, { seed: 1, withPrm: true });
    const native = [];
    for (const s of steps) native.push((await local.score([lroot.node], [s])).rewards[0]!);
    await local.release([lroot.node]);
    for (let i = 0; i < steps.length; i++) expect(remote[i]).toBeCloseTo(native[i]!, 4);
  });
});
