// Load on small KV pools (issue 30, "searches must wait, not fail"): many concurrent searches and
// generate() calls that each fit alone all complete, with the results they have alone and every page
// back; what could never fit alone fails fast with KvBudgetError; waiting respects arrival order,
// aborts, dispose and the queue bound.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../lib/engine/engine.js';
import { AbortError, DisposedError, KvBudgetError, OptionError, QueueFullError } from '../../lib/errors.js';
import { MAX_WAITING_GENERATIONS, loadModel, type Model } from '../../lib/models/model.js';
import { fitCalibration, type CalibrationRow } from '../../lib/search/calibration-table.js';
import { STRATEGY_NAMES, type SearchOptions } from '../../lib/search/types.js';

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures');
const POLICY = path.join(FIXTURES, 'tiny', 'llama-f32');
const PRM = path.join(FIXTURES, 'tiny-prm', 'qwen2-prm');
// Bytes of one KV page of 16 tokens (layers × K and V × 16 tokens × KV heads × head dim × 4 bytes, f32).
const POLICY_PAGE = 3 * 2 * 16 * 2 * 16 * 4;
const PRM_PAGE = 2 * 2 * 16 * 2 * 16 * 4;

type Opts = Omit<SearchOptions, 'backend'>;
// One beam search of n = 16 holds up to 64 policy pages on these models.
const BEAM: Opts = { strategy: 'beam', n: 16, beamWidth: 4, maxIterations: 4, maxStepTokens: 8, temperature: 0.8 };

function loadEngine(policyPages: number, prmPages: number, extra: { maxQueuedSearches?: number } = {}): Promise<Engine> {
  return Engine.load(POLICY, PRM, {
    policy: { threads: 2, kvCacheBytes: policyPages * POLICY_PAGE, precision: 'f32' },
    prm: { threads: 2, kvCacheBytes: prmPages * PRM_PAGE, precision: 'f32' },
    ...extra,
  });
}

function expectAllPagesFree(engine: Engine): void {
  const kv = engine.kvStats();
  expect(kv.policy.pagesFree).toBe(kv.policy.pagesTotal);
  expect(kv.policy.sequences).toBe(0);
  expect(kv.prm?.pagesFree).toBe(kv.prm?.pagesTotal);
  expect(engine.backend.liveNodes).toBe(0);
}

/** What a search decided, in a form to compare: the candidates' texts and the tree's shape. */
const outcome = (r: { candidates: { text: string }[]; tree: { parent: number | null; stepText: string }[] }) => ({
  candidates: r.candidates.map((c) => c.text),
  tree: r.tree.map((t) => [t.parent, t.stepText]),
});

describe('32 concurrent beam searches (n = 16) on small pools', () => {
  const questions = Array.from({ length: 32 }, (_, i) => `What is ${i} + ${i + 3}?`);
  let alone: ReturnType<typeof outcome>[];

  beforeAll(async () => {
    const engine = await loadEngine(512, 256);
    alone = [];
    for (const [i, q] of questions.entries()) alone.push(outcome(await engine.search(q, { ...BEAM, seed: i })));
    engine.dispose();
  });

  it.each([96, 160, 512])('all complete on %i policy pages, each as it does alone, with every page back', async (pages) => {
    const engine = await loadEngine(pages, 48);
    try {
      expect(engine.kvStats().policy.pagesTotal).toBe(pages);
      const results = await Promise.all(questions.map((q, i) => engine.search(q, { ...BEAM, seed: i })));
      expect(results.map(outcome)).toEqual(alone);
      expectAllPagesFree(engine);
      expect(engine.schedulerStats()).toMatchObject({ running: 0, waiting: 0 });
    } finally {
      engine.dispose();
    }
  });
});

describe('search admission', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await loadEngine(96, 48);
  });
  afterAll(() => engine?.dispose());

  it('fails a search that cannot fit in the empty pool with KvBudgetError naming the pages', async () => {
    const small = await loadEngine(8, 48);
    try {
      const run = small.search('What is 1 + 2?', { ...BEAM, seed: 1 });
      await expect(run).rejects.toBeInstanceOf(KvBudgetError);
      await expect(run).rejects.toThrow(/need \d+ pages, \d+ free in the policy's KV pool, with no other search running/);
      expectAllPagesFree(small);
    } finally {
      small.dispose();
    }
  });

  it("names the PRM's pool when the PRM's empty pool cannot hold the question", async () => {
    const small = await loadEngine(96, 1);
    try {
      const question = 'What is the sum of one hundred and twenty three and four hundred and fifty six?';
      const run = small.search(question, { ...BEAM, seed: 1 });
      await expect(run).rejects.toBeInstanceOf(KvBudgetError);
      await expect(run).rejects.toThrow(/need \d+ pages, \d+ free in the PRM's KV pool, with no other search running/);
      expectAllPagesFree(small);
    } finally {
      small.dispose();
    }
  });

  it('rejects a search aborted while it waits for admission, and runs the others', async () => {
    const controller = new AbortController();
    const first = engine.search('What is 1 + 2?', { ...BEAM, seed: 1 });
    // The first search is the only one admitted until it completes (the limit starts at one).
    const waiting = engine.search('What is 2 + 2?', { ...BEAM, seed: 2, signal: controller.signal });
    const third = engine.search('What is 3 + 2?', { ...BEAM, seed: 3 });
    await new Promise((r) => setImmediate(r));
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    await expect(waiting).rejects.toThrow('the search was aborted');
    await expect(Promise.all([first, third])).resolves.toHaveLength(2);
    expectAllPagesFree(engine);
  });

  it('refuses a signal that is not an AbortSignal with OptionError naming it, before queueing', async () => {
    const bad = { ...BEAM, seed: 1, signal: { aborted: false } as unknown as AbortSignal };
    await expect(engine.search('What is 1 + 2?', bad)).rejects.toThrow(new OptionError('Expected the search option `signal` to be an AbortSignal, got object'));
    expect(engine.schedulerStats()).toMatchObject({ running: 0, waiting: 0 });
  });

  it('refuses searches beyond maxQueuedSearches with QueueFullError', async () => {
    const bounded = await loadEngine(96, 48, { maxQueuedSearches: 1 });
    try {
      const runs = [1, 2, 3].map((i) => bounded.search(`What is ${i} + 2?`, { ...BEAM, seed: i }));
      const settled = await Promise.allSettled(runs);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
      expect((settled[2] as PromiseRejectedResult).reason).toBeInstanceOf(QueueFullError);
      expect(String((settled[2] as PromiseRejectedResult).reason.message)).toMatch(/maxQueuedSearches/);
      expectAllPagesFree(bounded);
    } finally {
      bounded.dispose();
    }
  });

  it('rejects waiting searches with DisposedError when the engine is disposed', async () => {
    const doomed = await loadEngine(96, 48);
    const runs = [1, 2, 3].map((i) => doomed.search(`What is ${i} + 2?`, { ...BEAM, seed: i }));
    await new Promise((r) => setImmediate(r));
    doomed.dispose();
    const settled = await Promise.allSettled(runs);
    // The waiting ones never started; the running one fails on the disposed models.
    for (const s of settled.slice(1)) expect((s as PromiseRejectedResult).reason).toBeInstanceOf(DisposedError);
  });

  it('runs every strategy twice at once on a small pool without a deadlock, each as it does alone', async () => {
    const rows: CalibrationRow[] = [0.1, 0.5, 0.9].flatMap((difficulty, q) =>
      (['beam', 'weighted-best-of-n'] as const).map((strategy) => ({
        question: `q${q}`,
        difficulty,
        strategy,
        params: { beamWidth: 2 },
        budget: 4,
        correct: strategy === 'beam',
      })),
    );
    const calibration = fitCalibration(rows, {
      policyId: engine.backend.info.policyId!,
      prmId: engine.backend.info.prmId!,
      difficultySamples: 2,
      aggregation: 'last',
    });
    const runs = STRATEGY_NAMES.flatMap((strategy) =>
      [0, 1].map((k) => ({
        q: `What is ${k} + 5?`,
        o: {
          strategy,
          n: strategy === 'compute-optimal' ? 6 : 8,
          beamWidth: 2,
          maxIterations: 3,
          maxStepTokens: 8,
          temperature: 0.8,
          seed: 40 + k,
          ...(strategy === 'compute-optimal' ? { calibration } : {}),
        } as Opts,
      })),
    );
    const alone = [];
    for (const r of runs) alone.push(outcome(await engine.search(r.q, r.o)));
    const together = await Promise.all(runs.map((r) => engine.search(r.q, r.o)));
    expect(together.map(outcome)).toEqual(alone);
    expectAllPagesFree(engine);
  });
});

describe('generate() under load', () => {
  // Each call reserves ceil((prompt + 40 - 1) / 16) = 3 pages (prompts of 2 to 9 tokens): a pool of 5 holds one at a time.
  const GEN = { maxTokens: 40, temperature: 0.8 };
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(POLICY, { threads: 2, kvCacheBytes: 5 * POLICY_PAGE, precision: 'f32' });
  });
  afterAll(() => model?.dispose());

  const expectPoolFree = () => {
    const kv = model.kvStats();
    expect(kv.pagesFree).toBe(kv.pagesTotal);
    expect(kv.sequences).toBe(0);
  };

  it('completes 50 concurrent calls that each fit alone, each as it does alone', async () => {
    const prompts = Array.from({ length: 50 }, (_, i) => `Count to ${i}:`);
    const alone = [];
    for (const [i, p] of prompts.entries()) alone.push((await model.generate(p, { ...GEN, seed: i })).text);
    const together = await Promise.all(prompts.map((p, i) => model.generate(p, { ...GEN, seed: i })));
    expect(together.map((r) => r.text)).toEqual(alone);
    expectPoolFree();
  });

  it('runs waiting calls in arrival order', async () => {
    const done: number[] = [];
    await Promise.all(Array.from({ length: 8 }, (_, i) => model.generate(`Say ${i}`, { ...GEN, seed: i }).then(() => done.push(i))));
    expect(done).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('fails at once with KvBudgetError naming the pages when the prompt alone needs more than the pool', async () => {
    const long = Array.from({ length: 200 }, (_, i) => (i % 50) + 3);
    const run = model.generate(long, GEN);
    await expect(run).rejects.toBeInstanceOf(KvBudgetError);
    await expect(run).rejects.toThrow(/prompt of 200 tokens needs 13 KV pages of 16 tokens, and the whole pool holds 5/);
    expectPoolFree();
  });

  it('rejects a call aborted while it waits for pages, and runs the others', async () => {
    const controller = new AbortController();
    const first = model.generate('Say 1', { ...GEN, seed: 1 });
    const waiting = model.generate('Say 2', { ...GEN, seed: 2, signal: controller.signal });
    const third = model.generate('Say 3', { ...GEN, seed: 3 });
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    await expect(waiting).rejects.toThrow('generate() was aborted');
    await expect(Promise.all([first, third])).resolves.toHaveLength(2);
    expectPoolFree();
  });

  it('refuses a call beyond MAX_WAITING_GENERATIONS waiting ones with QueueFullError', async () => {
    const doomed = await loadModel(POLICY, { threads: 2, kvCacheBytes: 5 * POLICY_PAGE, precision: 'f32' });
    // One call runs; MAX_WAITING_GENERATIONS wait; the next is refused at once.
    const runs = Array.from({ length: MAX_WAITING_GENERATIONS + 2 }, (_, i) => doomed.generate('Say 1', { ...GEN, seed: i }));
    const refused = runs.pop()!;
    await expect(refused).rejects.toBeInstanceOf(QueueFullError);
    await expect(refused).rejects.toThrow(`${MAX_WAITING_GENERATIONS} generate() calls are already waiting for KV pages`);
    doomed.dispose();
    const settled = await Promise.allSettled(runs.slice(1));
    expect(settled.every((r) => r.status === 'rejected' && r.reason instanceof DisposedError)).toBe(true);
    await runs[0]!.catch(() => undefined);
  });

  it('rejects waiting calls with DisposedError on dispose', async () => {
    const doomed = await loadModel(POLICY, { threads: 2, kvCacheBytes: 5 * POLICY_PAGE, precision: 'f32' });
    const runs = [1, 2, 3].map((i) => doomed.generate(`Say ${i}`, { ...GEN, seed: i }));
    doomed.dispose();
    const settled = await Promise.allSettled(runs);
    for (const s of settled) expect((s as PromiseRejectedResult).reason).toBeInstanceOf(DisposedError);
  });
});
