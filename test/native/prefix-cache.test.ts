// Automatic prefix caching (issue 27): full KV pages are found again by the chain hash of their token
// prefix, released cached pages stay reusable until the pool needs them (least recently released
// first), and none of it shows in results. Comparisons run the same calls on two loads of one tiny
// model, the prefix cache on and off.
//
// What "the same results" means: a hit reads exactly the K/V that the earlier run wrote, so a
// sequence served from the cache gets, bit for bit, the logits the cache-off model gives when it
// computes that prefix the same way (the earlier prompt's run, cut back to the shared pages, then the
// rest). Against the cache-off model computing the whole prompt in one batch they agree to float
// rounding only: the CPU kernels are not batch-invariant (attention picks its blocked kernel by the
// rows of a work item, so a prefix prefilled alone and a prefix prefilled in a longer batch can differ
// in the last bits, with or without the cache, as a fork's continuation and a fresh prefill already do).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KvStats, NativeGenerateStepRequest, NativeModel, SeqId } from '../../lib/native/addon-types.js';
import { nativeAddon } from '../../lib/native/load.js';
import { loadPrm, type Prm, type PrmNodeId } from '../../lib/models/prm/prm.js';
import { OptionError } from '../../lib/errors.js';
import { fixtureDir } from '../models/prm-fixtures.js';
import { maxAbsDiff, referenceLogits } from '../helpers/reference-llama.js';
import { bytesPerPage, rng, writeTinyModel, type TinyModel } from '../helpers/tiny-model.js';

const addon = nativeAddon();
const PT = 4; // tokens per page in every model here

/** Loads the same tiny model twice: the prefix cache on (the default) and off. */
async function pair(tiny: TinyModel): Promise<{ on: NativeModel; off: NativeModel }> {
  const on = await addon.loadModel(tiny.spec);
  const off = await addon.loadModel({ ...tiny.spec, prefixCache: false });
  return { on, off };
}

function seqOf(model: NativeModel, tokens: number[], seed = 0): SeqId {
  const s = model.createSequence(seed);
  model.appendTokens(s, Int32Array.from(tokens));
  return s;
}

/** A sequence holding `tokens`, run, and its last-token logits. */
async function run(model: NativeModel, tokens: number[]): Promise<{ seq: SeqId; logits: Float32Array }> {
  const seq = seqOf(model, tokens);
  const logits = await model.forward(Int32Array.of(seq), 'last');
  return { seq, logits };
}

/** Counter deltas of `fn` on `model`. */
async function counted<T>(model: NativeModel, fn: () => Promise<T>): Promise<{ value: T; computed: number; hits: number; queries: number }> {
  const a = model.kvStats();
  const value = await fn();
  const b = model.kvStats();
  return {
    value,
    computed: b.tokensComputed - a.tokensComputed,
    hits: b.prefixHitTokens - a.prefixHitTokens,
    queries: b.prefixQueryTokens - a.prefixQueryTokens,
  };
}

function expectAllReleased(stats: KvStats): void {
  expect(stats.sequences).toBe(0);
  expect(stats.pagesInUse).toBe(0);
  expect(stats.pagesFree).toBe(stats.pagesTotal);
}

function greedy(seqs: SeqId[], maxTokens: number, temperature = 0): NativeGenerateStepRequest {
  const n = seqs.length;
  return {
    seqs: Int32Array.from(seqs),
    temperature: new Float32Array(n).fill(temperature),
    topK: new Int32Array(n),
    topP: new Float32Array(n).fill(1),
    minP: new Float32Array(n),
    maxTokens: new Int32Array(n).fill(maxTokens),
    stop: [],
    stopAtEos: false,
  };
}

describe('prefix cache: hits and counters (pageTokens 4)', () => {
  let tiny: TinyModel;
  let on: NativeModel;
  let off: NativeModel;
  const r = rng(41);
  const tokens = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 256));
  beforeAll(async () => {
    tiny = writeTinyModel({ seed: 21, pageTokens: PT });
    ({ on, off } = await pair(tiny));
  });
  afterAll(() => {
    on.dispose();
    off.dispose();
    tiny.cleanup();
  });

  it('reports whether the cache is on in info()', () => {
    expect(on.info().prefixCache).toBe(true);
    expect(off.info().prefixCache).toBe(false);
  });

  it('a second sequence with a page-aligned cached prompt computes only its new tokens', async () => {
    const prompt = tokens(12); // three full pages
    const a = await counted(on, () => run(on, prompt));
    expect(a.computed).toBe(12);
    expect(a.hits).toBe(0);
    const inUse = on.kvStats().pagesInUse;
    const b = await counted(on, () => run(on, [...prompt, ...tokens(3)]));
    expect(b.hits).toBe(12);
    expect(b.computed).toBe(3);
    expect(b.queries).toBe(15);
    expect(on.kvStats().pagesInUse).toBe(inUse + 1); // the three prompt pages are shared
    on.releaseMany(Int32Array.of(a.value.seq, b.value.seq));
  });

  it('recomputes a cached prompt from its last partly filled page', async () => {
    const prompt = tokens(14); // three full pages and two tokens
    const a = await run(on, prompt);
    const b = await counted(on, () => run(on, [...prompt, ...tokens(5)]));
    expect(b.hits).toBe(12);
    expect(b.computed).toBe(2 + 5);
    on.releaseMany(Int32Array.of(a.seq, b.value.seq));
  });

  it('never hits the whole prompt: the page holding the last token runs again', async () => {
    const prompt = tokens(12);
    const a = await run(on, prompt);
    const b = await counted(on, () => run(on, prompt));
    expect(b.hits).toBe(8);
    expect(b.computed).toBe(4);
    expect(Array.from(b.value.logits)).toEqual(Array.from(a.logits));
    on.releaseMany(Int32Array.of(a.seq, b.value.seq));
  });

  it('continues a mid-page sequence with the cached page of the same prefix', async () => {
    // A resubmitted node: the question is run first (ending mid-page), then its step.
    const question = tokens(6);
    const step = tokens(9);
    const first = await run(on, question);
    on.appendTokens(first.seq, Int32Array.from(step));
    await on.forward(Int32Array.of(first.seq), 'last');
    on.release(first.seq);
    const again = await counted(on, () => run(on, question));
    expect(again.hits).toBe(4);
    expect(again.computed).toBe(2);
    const cont = await counted(on, async () => {
      on.appendTokens(again.value.seq, Int32Array.from(step));
      return on.forward(Int32Array.of(again.value.seq), 'last');
    });
    // pages 1 and 2 (positions 4..11), filled by the first run, replace the sequence's own partial page
    // 1 (its 2 computed tokens included) and spare page 2
    expect(cont.hits).toBe(12 - 6);
    expect(cont.computed).toBe(15 - 12);
    const ref = await run(off, [...question, ...step]);
    expect(maxAbsDiff(cont.value, ref.logits)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(cont.value, referenceLogits(tiny, [...question, ...step]).at(-1)!)).toBeLessThanOrEqual(1e-4);
    on.release(again.value.seq);
    off.release(ref.seq);
  });

  it('wants every row in a forward of all logits, so it skips nothing there', async () => {
    const prompt = tokens(12);
    const a = await run(on, prompt);
    const s = seqOf(on, [...prompt, ...tokens(2)]);
    const all = await counted(on, () => on.forward(Int32Array.of(s), 'all'));
    expect(all.hits).toBe(0);
    expect(all.computed).toBe(14);
    on.releaseMany(Int32Array.of(a.seq, s));
  });

  it('counts nothing as cached with the cache off', async () => {
    const prompt = tokens(12);
    const a = await run(off, prompt);
    const b = await counted(off, () => run(off, [...prompt, 1]));
    expect(b.hits).toBe(0);
    expect(b.queries).toBe(0);
    expect(b.computed).toBe(13);
    off.releaseMany(Int32Array.of(a.seq, b.value.seq));
    expect(off.kvStats().pagesCached).toBe(0);
    expectAllReleased(off.kvStats());
  });

  it('keeps released cached pages reusable: they count as free and as cached, and come back on a hit', async () => {
    const prompt = tokens(16);
    const a = await run(on, prompt);
    const cachedBefore = on.kvStats().pagesCached;
    on.release(a.seq);
    const parked = on.kvStats();
    expect(parked.pagesCached).toBe(cachedBefore + 4);
    expectAllReleased(parked);
    const b = await counted(on, () => run(on, [...prompt, ...tokens(1)]));
    expect(b.hits).toBe(16);
    expect(on.kvStats().pagesCached).toBe(cachedBefore);
    on.release(b.value.seq);
  });

  it('never shares pages across models', async () => {
    const other = await addon.loadModel(tiny.spec);
    try {
      const prompt = tokens(12);
      const a = await run(on, prompt);
      const b = await counted(other, () => run(other, [...prompt, 7]));
      expect(b.hits).toBe(0);
      expect(b.computed).toBe(13);
      on.release(a.seq);
      other.release(b.value.seq);
    } finally {
      other.dispose();
    }
  });

  it('returns every page once all sequences are released', () => {
    expectAllReleased(on.kvStats());
  });
});

describe('prefix cache: results equal with the cache on and off (pageTokens 4)', () => {
  let tiny: TinyModel;
  let on: NativeModel;
  let off: NativeModel;
  beforeAll(async () => {
    tiny = writeTinyModel({ seed: 22, pageTokens: PT });
    ({ on, off } = await pair(tiny));
  });
  afterAll(() => {
    on.dispose();
    off.dispose();
    tiny.cleanup();
  });

  const TOL = 1e-5; // against a whole-prompt prefill (the header says why not 0)
  // Each test its own token stream, so that no test finds pages another one left in the cache.
  const stream = (seed: number) => {
    const rr = rng(seed);
    return Array.from({ length: 40 }, () => Math.floor(rr() * 256));
  };
  const lastRef = (t: number[]) => referenceLogits(tiny, t).at(-1)!;

  // [name, the earlier prompt, the prompt served from its pages, tokens the hit covers]
  const [s1, s2, s3, s4, s5, s6, s7] = [1, 2, 3, 4, 5, 6, 7].map(stream);
  const cases: Array<[string, number[], number[], number]> = [
    ['the same prompt twice', s1.slice(0, 21), s1.slice(0, 21), 20],
    ['the same page-aligned prompt twice', s2.slice(0, 24), s2.slice(0, 24), 20],
    ['a prompt ending exactly at a page boundary, then its continuation', s3.slice(0, 16), s3.slice(0, 27), 16],
    ['a continuation ending exactly at a page boundary', s4.slice(0, 17), s4.slice(0, 28), 16],
    ['prompts diverging mid-page', s5.slice(0, 30), [...s5.slice(0, 22), 1, 2, 3, 4, 5], 20],
    ['prompts diverging at a page boundary', s6.slice(0, 30), [...s6.slice(0, 24), 9, 8, 7], 24],
    ['a prompt shorter than a page', s7.slice(0, 3), s7.slice(0, 3), 0],
  ];

  it.each(cases)('%s: the cached K/V give bit for bit the logits of computing that prefix the same way', async (_, first, second, hit) => {
    const a = await run(on, first);
    const b = await counted(on, () => run(on, second));
    expect(b.hits).toBe(hit);
    expect(b.computed).toBe(second.length - hit);
    // The cache-off model computes the same thing by hand: the first prompt, cut back to the pages the
    // hit covered, then the rest of the second prompt.
    const x = await run(off, first);
    off.truncate(x.seq, hit);
    off.appendTokens(x.seq, Int32Array.from(second.slice(hit)));
    const byHand = await off.forward(Int32Array.of(x.seq), 'last');
    expect(Array.from(b.value.logits)).toEqual(Array.from(byHand));
    // and what a whole-prompt prefill gives, to float rounding
    const scratch = await run(off, second);
    expect(maxAbsDiff(b.value.logits, scratch.logits)).toBeLessThanOrEqual(TOL);
    expect(maxAbsDiff(b.value.logits, lastRef(second))).toBeLessThanOrEqual(1e-4);
    on.releaseMany(Int32Array.of(a.seq, b.value.seq));
    off.releaseMany(Int32Array.of(x.seq, scratch.seq));
  });

  it('generates the same tokens and log-probabilities from a cached prompt', async () => {
    const prompt = stream(8).slice(0, 13);
    const outs = [];
    for (const model of [on, off]) {
      const warm = await run(model, prompt);
      const s = seqOf(model, [...prompt, 3], 1234);
      const greedyStep = await model.generateStep(greedy([s], 9));
      const t = seqOf(model, [...prompt, 4], 99);
      const sampled = await model.generateStep(greedy([t], 9, 1));
      outs.push([Array.from(greedyStep.tokens), Array.from(greedyStep.logprobs), Array.from(sampled.tokens), Array.from(sampled.logprobs)]);
      model.releaseMany(Int32Array.of(warm.seq, s, t));
    }
    expect(outs[0][0]).toEqual(outs[1][0]);
    expect(outs[0][2]).toEqual(outs[1][2]);
    expect(maxAbsDiff(Float32Array.from(outs[0][1]), Float32Array.from(outs[1][1]))).toBeLessThanOrEqual(TOL);
    expect(maxAbsDiff(Float32Array.from(outs[0][3]), Float32Array.from(outs[1][3]))).toBeLessThanOrEqual(TOL);
    expect(on.kvStats().prefixHitTokens).toBeGreaterThan(0);
  });

  it('forks and copy-on-write after a hit give the logits of the cache off', async () => {
    const prompt = stream(9).slice(0, 22);
    const outs: Float32Array[][] = [];
    for (const model of [on, off]) {
      const a = await run(model, prompt); // pages 0..4 cached
      const b = await run(model, [...prompt, 11, 12, 13]); // hits pages 0..4, shares them with a
      const child = model.fork(b.seq);
      model.appendTokens(b.seq, Int32Array.of(21));
      model.appendTokens(child, Int32Array.of(22, 23));
      const both = await model.forward(Int32Array.of(b.seq, child), 'last');
      model.appendTokens(a.seq, Int32Array.of(31));
      const aNext = await model.forward(Int32Array.of(a.seq), 'last');
      outs.push([b.logits, both, aNext]);
      model.releaseMany(Int32Array.of(a.seq, b.seq, child));
    }
    outs[0].forEach((got, i) => expect(maxAbsDiff(got, outs[1][i])).toBeLessThanOrEqual(TOL));
    expect(maxAbsDiff(outs[0][1].subarray(256), lastRef([...prompt, 11, 12, 13, 22, 23]))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(outs[0][2], lastRef([...prompt, 31]))).toBeLessThanOrEqual(1e-4);
  });

  it.each([
    ['inside a shared cached page', 18],
    ['at a page boundary', 16],
    ['to one token', 1],
  ])('truncation %s after a hit gives the logits of the cache off and leaves the cached pages intact', async (_, keep) => {
    const prompt = stream(10 + keep).slice(0, 24);
    const outs: Float32Array[][] = [];
    for (const model of [on, off]) {
      const a = await run(model, prompt);
      const b = await run(model, [...prompt, 40]); // shares all six pages of a
      model.truncate(b.seq, keep);
      model.appendTokens(b.seq, Int32Array.of(50, 51, 52));
      const bCut = await model.forward(Int32Array.of(b.seq), 'last');
      // a still reads its own pages: nothing b wrote reached them
      model.appendTokens(a.seq, Int32Array.of(60));
      const aNext = await model.forward(Int32Array.of(a.seq), 'last');
      model.releaseMany(Int32Array.of(a.seq, b.seq));
      // and a fresh sequence finds the cached prefix as a wrote it
      const c = await run(model, [...prompt, 70]);
      outs.push([bCut, aNext, c.logits]);
      model.release(c.seq);
    }
    outs[0].forEach((got, i) => expect(maxAbsDiff(got, outs[1][i])).toBeLessThanOrEqual(TOL));
    expect(maxAbsDiff(outs[0][0], lastRef([...prompt.slice(0, keep), 50, 51, 52]))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(outs[0][2], lastRef([...prompt, 70]))).toBeLessThanOrEqual(1e-4);
  });

  it('a sole owner cutting into its cached page writes in place and never corrupts the cache', async () => {
    const prompt = stream(40).slice(0, 20);
    const outs: Float32Array[][] = [];
    for (const model of [on, off]) {
      const a = await run(model, prompt);
      const b = await run(model, [...prompt, 1]); // shares pages 0..4 with a
      model.release(a.seq); // b is now the only owner of the cached pages
      model.truncate(b.seq, 18); // keeps page 4 (a cached page) partly
      const before = model.kvStats().pagesInUse;
      model.appendTokens(b.seq, Int32Array.of(90, 91, 92, 93));
      const bCut = await model.forward(Int32Array.of(b.seq), 'last');
      expect(model.kvStats().pagesInUse).toBe(before + 1); // page 4 in place, one fresh page 5: no copy
      const c = await run(model, [...prompt, 2]); // must not find b's rewrite of page 4
      outs.push([bCut, c.logits]);
      model.releaseMany(Int32Array.of(b.seq, c.seq));
    }
    outs[0].forEach((got, i) => expect(maxAbsDiff(got, outs[1][i])).toBeLessThanOrEqual(TOL));
    expect(maxAbsDiff(outs[0][1], lastRef([...prompt, 2]))).toBeLessThanOrEqual(1e-4);
  });

  it('returns every page once all sequences are released', () => {
    expectAllReleased(on.kvStats());
    expectAllReleased(off.kvStats());
  });
});

describe('prefix cache: LRU eviction under a small pool (8 pages of 4 tokens)', () => {
  let tiny: TinyModel;
  let on: NativeModel;
  let off: NativeModel;
  const r = rng(43);
  const tokens = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 256));
  beforeAll(async () => {
    tiny = writeTinyModel({ seed: 23, pageTokens: PT });
    tiny.spec.kvCacheBytes = 8 * bytesPerPage(tiny);
    ({ on, off } = await pair(tiny));
  });
  afterAll(() => {
    on.dispose();
    off.dispose();
    tiny.cleanup();
  });

  async function runAndRelease(model: NativeModel, t: number[]): Promise<void> {
    const x = await run(model, t);
    model.release(x.seq);
  }

  it("evicts the least recently released pages first, a prefix's tail before its head", async () => {
    const p1 = tokens(8);
    const p2 = tokens(8);
    await runAndRelease(on, p1);
    await runAndRelease(on, p2);
    expect(on.kvStats()).toMatchObject({ pagesCached: 4, pagesFree: 8, pagesInUse: 0 });
    // 5 pages: the 4 never-cached pages, then one eviction: p1's last page, parked first
    const big = await run(on, tokens(20));
    expect(on.kvStats()).toMatchObject({ pagesCached: 3, pagesFree: 3, pagesInUse: 5 });
    // p1's first page is still there; its second page is gone, and the 2 pages this needs evict p2
    const h1 = await counted(on, () => run(on, [...p1, 5]));
    expect(h1.hits).toBe(4);
    expect(h1.computed).toBe(5);
    expect(on.kvStats()).toMatchObject({ pagesCached: 0, pagesFree: 0, pagesInUse: 8 });
    on.releaseMany(Int32Array.of(big.seq, h1.value.seq));
    const h2 = await counted(on, () => run(on, [...p2, 5]));
    expect(h2.hits).toBe(0);
    on.release(h2.value.seq);
    expectAllReleased(on.kvStats());
  });

  it('brings a released prefix back from the LRU list while other parked pages are evicted', async () => {
    const keep = tokens(8);
    await runAndRelease(on, keep);
    const x = await counted(on, () => run(on, [...keep, ...tokens(2)])); // 2 hits, 1 fresh page
    expect(x.hits).toBe(8);
    // the pool's other 5 pages go to this one; keep's pages are owned, so never evicted
    const y = await run(on, tokens(20));
    expect(on.kvStats()).toMatchObject({ pagesInUse: 8, pagesFree: 0 });
    on.releaseMany(Int32Array.of(x.value.seq, y.seq));
    expectAllReleased(on.kvStats());
  });

  it('takes parked pages from a pool full of them: a sequence may use every page', async () => {
    for (let i = 0; i < 3; i++) await runAndRelease(on, tokens(12));
    expect(on.kvStats().pagesCached).toBeGreaterThan(0);
    const x = await run(on, tokens(32));
    expect(on.kvStats()).toMatchObject({ pagesInUse: 8, pagesFree: 0, pagesCached: 0 });
    on.release(x.seq);
    expectAllReleased(on.kvStats());
  });

  it('hits parked pages even when no free page is left for them to displace', async () => {
    const p = tokens(28); // seven full pages
    await runAndRelease(on, p);
    const x = await counted(on, () => run(on, [...p, ...tokens(4)])); // 7 hits + 1 page
    expect(x.hits).toBe(28);
    expect(x.computed).toBe(4);
    expect(on.kvStats().pagesInUse).toBe(8);
    on.release(x.value.seq);
    expectAllReleased(on.kvStats());
  });

  it('fails with KV_BUDGET exactly where the cache off fails, with the same message', async () => {
    const messages: string[] = [];
    for (const model of [on, off]) {
      await runAndRelease(model, tokens(16));
      const s = seqOf(model, tokens(33)); // 9 pages
      const err = await model.forward(Int32Array.of(s), 'last').catch((e: unknown) => e as Error & { code?: string });
      expect((err as { code?: string }).code).toBe('KV_BUDGET');
      messages.push((err as Error).message);
      expect(model.kvStats().pagesInUse).toBe(0); // the failed call took nothing
      model.truncate(s, 32); // 8 pages fit
      await model.forward(Int32Array.of(s), 'last');
      model.release(s);
      expectAllReleased(model.kvStats());
    }
    expect(messages[0]).toBe(messages[1]);
    expect(messages[0]).toBe('KV budget exhausted: need 9 pages, 8 free');
  });

  it('puts the pages a lookup took back when the call then fails for want of pages', async () => {
    const p = tokens(16);
    await runAndRelease(on, p); // four parked pages
    const s = seqOf(on, [...p, ...tokens(17)]); // 9 pages: 4 hits + 5 fresh, and only 4 others free
    const before = on.kvStats();
    const err = await on.forward(Int32Array.of(s), 'last').catch((e: unknown) => e as Error);
    expect((err as { code?: string }).code).toBe('KV_BUDGET');
    expect(err.message).toBe('KV budget exhausted: need 5 pages, 4 free');
    expect(on.kvStats()).toEqual(before); // pages, parked pages and counters as they were
    const gen = await on.generateStep(greedy([s], 1)).catch((e: unknown) => e as Error);
    expect((gen as { code?: string }).code).toBe('KV_BUDGET');
    expect(on.kvStats()).toEqual(before);
    on.truncate(s, 32); // 8 pages: 4 hits + 4 fresh
    const ok = await counted(on, () => on.forward(Int32Array.of(s), 'last'));
    expect(ok.hits).toBe(16);
    expect(ok.computed).toBe(16);
    on.release(s);
    expectAllReleased(on.kvStats());
  });

  it('lets a sole owner of a cached page cut into it and write with no free page left', async () => {
    for (const model of [on, off]) {
      const t = tokens(32); // every page, all full (and cached with the cache on)
      const s = (await run(model, t)).seq;
      expect(model.kvStats().pagesFree).toBe(0);
      model.truncate(s, 30);
      model.appendTokens(s, Int32Array.of(1, 2));
      const got = await model.forward(Int32Array.of(s), 'last');
      expect(maxAbsDiff(got, referenceLogits(tiny, [...t.slice(0, 30), 1, 2]).at(-1)!)).toBeLessThanOrEqual(1e-4);
      model.release(s);
      expectAllReleased(model.kvStats());
    }
  });

  it('rolls a generation step back on KV_BUDGET and then generates what the cache off generates', async () => {
    const outs: number[][] = [];
    const prompt = tokens(9);
    for (const model of [on, off]) {
      await runAndRelease(model, prompt); // with the cache on, its first two pages stay parked
      const hog = await run(model, tokens(20)); // 5 pages: 3 left
      const s = seqOf(model, prompt, 3);
      const err = await model.generateStep(greedy([s], 12)).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('KV_BUDGET');
      expect(model.sequenceLength(s)).toBe(prompt.length);
      model.release(hog.seq);
      const res = await model.generateStep(greedy([s], 12));
      outs.push(Array.from(res.tokens));
      model.release(s);
      expectAllReleased(model.kvStats());
    }
    expect(outs[0]).toEqual(outs[1]);
  });
});

describe('prefix cache: a random mix of calls under a small pool (24 pages of 4 tokens)', () => {
  let tiny: TinyModel;
  let on: NativeModel;
  let off: NativeModel;
  beforeAll(async () => {
    tiny = writeTinyModel({ seed: 25, pageTokens: PT });
    tiny.spec.kvCacheBytes = 24 * bytesPerPage(tiny);
    ({ on, off } = await pair(tiny));
  });
  afterAll(() => {
    on.dispose();
    off.dispose();
    tiny.cleanup();
  });

  it('matches the cache off call for call, never fails where it does not, and returns every page', async () => {
    const rr = rng(99);
    const int = (n: number) => Math.floor(rr() * n);
    // a few documents, so that sequences keep meeting each other's prefixes
    const docs = Array.from({ length: 3 }, () => Array.from({ length: 40 }, () => int(256)));
    const live = new Map<number, number[]>();
    // Sequence ids are unique in the process, so each sequence of \`on\` has its twin in \`off\`.
    const twin = new Map<number, SeqId>();
    const offIds = (ids: readonly number[]) => Int32Array.from(ids, (id) => twin.get(id)!);
    const pick = () => [...live.keys()][int(live.size)]!;
    let hits = 0;
    let onlyOffFailed = 0;
    let bothFailed = 0;
    for (let step = 0; step < 300; step++) {
      const op = rr();
      if (live.size === 0 || op < 0.2) {
        const t = docs[int(docs.length)]!.slice(0, 1 + int(24));
        const a = seqOf(on, t);
        twin.set(a, seqOf(off, t));
        live.set(a, t);
      } else if (op < 0.4) {
        const id = pick();
        const t = live.get(id)!;
        const doc = docs.find((d) => t.every((x, i) => d[i] === x));
        const more = doc && rr() < 0.6 ? doc.slice(t.length, t.length + 1 + int(8)) : Array.from({ length: 1 + int(4) }, () => int(256));
        if (more.length === 0 || t.length + more.length > 44) continue;
        on.appendTokens(id as SeqId, Int32Array.from(more));
        off.appendTokens(twin.get(id)!, Int32Array.from(more));
        t.push(...more);
      } else if (op < 0.65) {
        const ids = [...new Set([pick(), pick(), pick()])];
        const before = on.kvStats().prefixHitTokens;
        const got = await on.forward(Int32Array.from(ids), 'last').catch((e: unknown) => e);
        const want = await off.forward(offIds(ids), 'last').catch((e: unknown) => e);
        if (got instanceof Error) {
          expect((got as { code?: string }).code).toBe('KV_BUDGET');
          expect((want as { code?: string }).code).toBe('KV_BUDGET'); // the cache never causes one
          expect((want as { code?: string }).code).toBe('KV_BUDGET'); // the cache never causes one
          bothFailed++;
          continue;
        }
        if (want instanceof Error) {
          // Hits saved the pages the cache off lacked. Drop these sequences on both sides, so that both
          // models hold the same sequences with the same computed tokens again.
          onlyOffFailed++;
          on.releaseMany(Int32Array.from(ids));
          off.releaseMany(offIds(ids));
          for (const id of ids) live.delete(id);
          continue;
        }
        hits += on.kvStats().prefixHitTokens - before;
        expect(maxAbsDiff(got as Float32Array, want as Float32Array)).toBeLessThanOrEqual(1e-4);
      } else if (op < 0.75) {
        const id = pick();
        const child = on.fork(id as SeqId);
        twin.set(child, off.fork(twin.get(id)!));
        live.set(child, [...live.get(id)!]);
      } else if (op < 0.87) {
        const id = pick();
        const t = live.get(id)!;
        const keep = int(t.length + 1);
        on.truncate(id as SeqId, keep);
        off.truncate(twin.get(id)!, keep);
        t.length = keep;
        if (keep === 0) {
          on.release(id as SeqId);
          off.release(twin.get(id)!);
          live.delete(id);
        }
      } else {
        const id = pick();
        on.release(id as SeqId);
        off.release(twin.get(id)!);
        live.delete(id);
      }
      const a = on.kvStats();
      expect(a.pagesInUse).toBeLessThanOrEqual(off.kvStats().pagesInUse); // sharing only ever saves pages
      expect(a.pagesCached).toBeLessThanOrEqual(a.pagesFree);
      expect(a.pagesFree + a.pagesInUse).toBe(a.pagesTotal);
    }
    expect(hits).toBeGreaterThan(0);
    expect(onlyOffFailed + bothFailed).toBeGreaterThan(0); // the pool was under pressure
    on.releaseMany(Int32Array.from(live.keys()));
    off.releaseMany(offIds([...live.keys()]));
    expectAllReleased(on.kvStats());
    expectAllReleased(off.kvStats());
  });
});

describe('prefix cache: loadPrm option and the resubmitted PRM path', () => {
  const QUESTION = 'Tom has 3 apples and buys 5 more. How many apples does Tom have now?';
  const STEPS = ['Step 1: Tom starts with 3 apples.\n\n', 'Step 2: He buys 5 more apples.\n\n', 'Step 3: 3 + 5 = 8.\n\n', 'The answer is 8.'];
  let on: Prm;
  let off: Prm;
  beforeAll(async () => {
    const options = { format: 'math-shepherd' as const, precision: 'f32' as const, threads: 2, kvCacheBytes: 8 << 20, pageTokens: 8 };
    on = await loadPrm(fixtureDir('math-shepherd'), options);
    off = await loadPrm(fixtureDir('math-shepherd'), { ...options, prefixCache: false });
  });
  afterAll(() => {
    on.dispose();
    off.dispose();
  });

  it('rejects a prefixCache that is not a boolean', async () => {
    await expect(loadPrm(fixtureDir('math-shepherd'), { prefixCache: 'yes' as unknown as boolean })).rejects.toThrow(
      new OptionError('Expected `prefixCache` to be a boolean, got yes'),
    );
  });

  it('passes the option to the native model', () => {
    expect(on.info.prefixCache).toBe(true);
    expect(off.info.prefixCache).toBe(false);
  });

  /** One request of a client that resubmits the whole node: root, every step so far, release. */
  async function resubmit(prm: Prm, steps: readonly string[]): Promise<{ reward: number; computed: number }> {
    const before = prm.kvStats().tokensComputed;
    const node: PrmNodeId = await prm.root(QUESTION);
    let reward = NaN;
    for (const step of steps) reward = (await prm.score([node], [step])).rewards[0]!;
    await prm.release([node]);
    return { reward, computed: prm.kvStats().tokensComputed - before };
  }

  it('scores a resubmitted question and steps incrementally, with the rewards of the cache off', async () => {
    const got: Array<{ reward: number; computed: number }> = [];
    const want: Array<{ reward: number; computed: number }> = [];
    for (let k = 1; k <= STEPS.length; k++) {
      got.push(await resubmit(on, STEPS.slice(0, k)));
      want.push(await resubmit(off, STEPS.slice(0, k)));
    }
    for (let k = 0; k < STEPS.length; k++) expect(Math.abs(got[k].reward - want[k].reward)).toBeLessThanOrEqual(1e-5);
    // Without the cache each request recomputes everything; with it, a request after the first pays
    // for its new step and at most one partly filled page per earlier forward (pageTokens 8).
    for (let k = 1; k < STEPS.length; k++) {
      expect(want[k].computed).toBeGreaterThan(want[k - 1].computed);
      const newStep = want[k].computed - want[k - 1].computed;
      expect(got[k].computed).toBeLessThanOrEqual(newStep + 8 * (k + 1));
      expect(got[k].computed).toBeLessThan(want[k].computed / 2);
    }
    expectAllReleased(on.kvStats());
    expectAllReleased(off.kvStats());
  });
});

// The CUDA executor keeps K/V on the device and the page bookkeeping on the host, so the cache works
// there unchanged: run through the CPU emulator of the CUDA library (`npm run build:cuda-emu`).
const EMU_LIB = fileURLToPath(new URL('../../build-cuda-emu/libthinktree_cuda_emu.so', import.meta.url));
const emuWhy = existsSync(EMU_LIB) ? '' : ' [skipped: run `npm run build:cuda-emu` first]';

describe.skipIf(emuWhy !== '')(`prefix cache on the emulated CUDA device${emuWhy}`, () => {
  let tiny: TinyModel;
  let device: NativeModel;
  let cpuOff: NativeModel;
  const r = rng(44);
  const tokens = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 256));
  beforeAll(async () => {
    tiny = writeTinyModel({ seed: 24, pageTokens: PT, threads: 1 });
    device = await addon.loadModel({ ...tiny.spec, device: { libraryPath: EMU_LIB, index: 0 } });
    cpuOff = await addon.loadModel({ ...tiny.spec, prefixCache: false });
  });
  afterAll(() => {
    device?.dispose();
    cpuOff?.dispose();
    tiny.cleanup();
  });

  it('hits cached pages on the device and gives the logits of the CPU without the cache', async () => {
    expect(device.info().device).toBe('cuda');
    const prompt = tokens(18);
    const a = await run(device, prompt);
    const b = await counted(device, () => run(device, [...prompt, 3, 4, 5]));
    expect(b.hits).toBe(16);
    expect(b.computed).toBe(5);
    const want = await run(cpuOff, [...prompt, 3, 4, 5]);
    expect(maxAbsDiff(b.value.logits, want.logits)).toBeLessThanOrEqual(1e-4);
    // a sole owner cutting into a cached page rewrites it in place; a fresh sequence then must not find it
    device.release(a.seq);
    device.truncate(b.value.seq, 14);
    device.appendTokens(b.value.seq, Int32Array.of(7, 8, 9));
    const cut = await device.forward(Int32Array.of(b.value.seq), 'last');
    expect(maxAbsDiff(cut, referenceLogits(tiny, [...prompt.slice(0, 14), 7, 8, 9]).at(-1)!)).toBeLessThanOrEqual(1e-4);
    const c = await counted(device, () => run(device, [...prompt, 6]));
    expect(c.hits).toBe(12);
    expect(maxAbsDiff(c.value.logits, referenceLogits(tiny, [...prompt, 6]).at(-1)!)).toBeLessThanOrEqual(1e-4);
    device.releaseMany(Int32Array.of(b.value.seq, c.value.seq));
    cpuOff.release(want.seq);
    expectAllReleased(device.kvStats());
  });
});
