import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KvStats, NativeModel, SeqId } from '../../lib/native/addon-types.js';
import { nativeAddon } from '../../lib/native/load.js';
import { maxAbsDiff, referenceLogits } from '../helpers/reference-llama.js';
import { bytesPerPage, rng, writeTinyModel, type TinyModel } from '../helpers/tiny-model.js';

const addon = nativeAddon();

function randomTokens(n: number, r: () => number): number[] {
  return Array.from({ length: n }, () => Math.floor(r() * 256));
}

function seq(model: NativeModel, tokens: number[]): SeqId {
  const s = model.createSequence(0);
  model.appendTokens(s, Int32Array.from(tokens));
  return s;
}

describe('KV page pool: sharing and copy-on-write (pageTokens 4)', () => {
  let tiny: TinyModel;
  let model: NativeModel;
  const r = rng(5);
  beforeAll(async () => {
    tiny = writeTinyModel({ seed: 3, pageTokens: 4 });
    model = await addon.loadModel(tiny.spec);
  });
  afterAll(() => {
    model.dispose();
    tiny.cleanup();
  });
  const inUse = () => model.kvStats().pagesInUse;
  const lastRef = (tokens: number[]) => referenceLogits(tiny, tokens).at(-1)!;

  it('shares every page on fork: pagesInUse does not grow', async () => {
    const parent = seq(model, randomTokens(10, r));
    await model.forward(Int32Array.of(parent), 'last');
    const before = model.kvStats();
    const kids = model.forkMany(Int32Array.of(parent, parent, parent));
    const after = model.kvStats();
    expect(after.pagesInUse).toBe(before.pagesInUse);
    expect(after.sequences).toBe(before.sequences + 3);
    model.releaseMany(Int32Array.of(parent, ...kids));
  });

  it('copies a partly filled last page when a fork writes into it, and the last owner writes in place', async () => {
    const prompt = randomTokens(6, r); // pages: [4 tokens][2 tokens]
    const parent = seq(model, prompt);
    await model.forward(Int32Array.of(parent), 'last');
    const base = inUse();
    const child = model.fork(parent);
    const [a, b] = randomTokens(2, r);
    model.appendTokens(child, Int32Array.of(a));
    const childLogits = await model.forward(Int32Array.of(child), 'last');
    expect(inUse()).toBe(base + 1); // the shared partial page was copied
    model.appendTokens(parent, Int32Array.of(b));
    const parentLogits = await model.forward(Int32Array.of(parent), 'last');
    expect(inUse()).toBe(base + 1); // parent is now the page's only owner: no second copy
    expect(maxAbsDiff(childLogits, lastRef([...prompt, a]))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(parentLogits, lastRef([...prompt, b]))).toBeLessThanOrEqual(1e-4);
    model.releaseMany(Int32Array.of(parent, child));
  });

  it('never copies a full page: forks of a page-aligned prefix take only fresh pages', async () => {
    const prompt = randomTokens(8, r); // two full pages
    const parent = seq(model, prompt);
    await model.forward(Int32Array.of(parent), 'last');
    const base = inUse();
    const kids = model.forkMany(Int32Array.of(parent, parent));
    for (const k of kids) model.appendTokens(k, Int32Array.from(randomTokens(3, r)));
    await model.forward(kids, 'last');
    expect(inUse()).toBe(base + 2);
    model.releaseMany(Int32Array.of(parent, ...kids));
  });

  it('makes one copy when two owners of a partial page write in the same batch', async () => {
    const prompt = randomTokens(5, r);
    const parent = seq(model, prompt);
    await model.forward(Int32Array.of(parent), 'last');
    const base = inUse();
    const child = model.fork(parent);
    const [a, b] = randomTokens(2, r);
    model.appendTokens(parent, Int32Array.of(a));
    model.appendTokens(child, Int32Array.of(b));
    const out = await model.forward(Int32Array.of(parent, child), 'last');
    expect(inUse()).toBe(base + 1);
    const V = tiny.config.vocab;
    expect(maxAbsDiff(out.subarray(0, V), lastRef([...prompt, a]))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(out.subarray(V), lastRef([...prompt, b]))).toBeLessThanOrEqual(1e-4);
    model.releaseMany(Int32Array.of(parent, child));
  });

  it('returns every page after a random mix of create, append, forward, fork and release', async () => {
    const rr = rng(77);
    const live = new Map<number, number[]>();
    const pick = () => [...live.keys()][Math.floor(rr() * live.size)];
    let checked = 0;
    for (let step = 0; step < 150; step++) {
      const op = rr();
      if (live.size === 0 || op < 0.15) {
        const t = randomTokens(1 + Math.floor(rr() * 6), rr);
        live.set(seq(model, t), t);
      } else if (op < 0.35) {
        const id = pick();
        const t = randomTokens(1 + Math.floor(rr() * 3), rr);
        model.appendTokens(id as SeqId, Int32Array.from(t));
        live.get(id)!.push(...t);
      } else if (op < 0.6) {
        const ids = [...new Set([pick(), pick(), pick()])].filter((id) => live.get(id)!.length < 28);
        if (ids.length === 0) continue;
        const out = await model.forward(Int32Array.from(ids), 'last');
        if (checked < 12) {
          checked++;
          expect(maxAbsDiff(out.subarray(0, 256), lastRef(live.get(ids[0])!))).toBeLessThanOrEqual(1e-4);
        }
      } else if (op < 0.8) {
        const id = pick();
        live.set(model.fork(id as SeqId), [...live.get(id)!]);
      } else {
        const id = pick();
        model.release(id as SeqId);
        live.delete(id);
      }
      const st = model.kvStats();
      expect(st.pagesFree + st.pagesInUse).toBe(st.pagesTotal);
      expect(st.sequences).toBe(live.size);
    }
    for (const [id, tokens] of live) expect(Array.from(model.sequenceTokens(id as SeqId))).toEqual(tokens);
    model.releaseMany(Int32Array.from(live.keys()));
    const st = model.kvStats();
    expect(st.pagesFree).toBe(st.pagesTotal);
    expect(st.sequences).toBe(0);
  });
});

describe('KV budget exhaustion', () => {
  let tiny: TinyModel;
  let model: NativeModel;
  beforeAll(async () => {
    tiny = writeTinyModel({ seed: 4, pageTokens: 4 });
    tiny.spec.kvCacheBytes = 5 * bytesPerPage(tiny);
    model = await addon.loadModel(tiny.spec);
  });
  afterAll(() => {
    model.dispose();
    tiny.cleanup();
  });

  it('rejects the whole forward with code KV_BUDGET and leaves pool and sequences unchanged', async () => {
    const r = rng(9);
    const a = seq(model, randomTokens(12, r)); // 3 pages
    await model.forward(Int32Array.of(a), 'last');
    const tokensB = randomTokens(12, r);
    const b = seq(model, tokensB);
    const c = seq(model, randomTokens(2, r));
    const before: KvStats = model.kvStats();
    const err = await model.forward(Int32Array.of(c, b), 'all').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('KV budget exhausted: need 4 pages, 2 free');
    expect((err as { code?: string }).code).toBe('KV_BUDGET');
    expect(model.kvStats()).toEqual(before);
    expect(model.sequenceLength(b)).toBe(12);
    // Once pages are free, the same call goes through and b's logits are right.
    model.release(a);
    const out = await model.forward(Int32Array.of(b), 'last');
    expect(maxAbsDiff(out, referenceLogits(tiny, tokensB).at(-1)!)).toBeLessThanOrEqual(1e-4);
    model.releaseMany(Int32Array.of(b, c));
    expect(model.kvStats().pagesFree).toBe(5);
  });

  it('counts a copy-on-write copy as a page the batch needs', async () => {
    const r = rng(10);
    const a = seq(model, randomTokens(17, r)); // 5 pages, the last holding one token
    await model.forward(Int32Array.of(a), 'last');
    const child = model.fork(a);
    model.appendTokens(child, Int32Array.of(1));
    await expect(model.forward(Int32Array.of(child), 'last')).rejects.toThrow('KV budget exhausted: need 1 pages, 0 free');
    model.releaseMany(Int32Array.of(a, child));
    expect(model.kvStats().pagesFree).toBe(5);
  });

  it('rejects a budget smaller than one page at load', async () => {
    const t = writeTinyModel({ seed: 4, pageTokens: 4 });
    t.spec.kvCacheBytes = 100;
    await expect(addon.loadModel(t.spec)).rejects.toThrow(`kvCacheBytes 100 is too small: one page needs ${bytesPerPage(t)} bytes`);
    t.cleanup();
  });
});

describe('KV cache element type', () => {
  it('keeps K/V in bf16 in bf16 mode (half the bytes per page, twice the pages) and in f32 in f32 mode', async () => {
    const t = writeTinyModel({ seed: 3, pageTokens: 4, kvCacheBytes: 1 << 20 });
    try {
      const f32 = await nativeAddon().loadModel({ ...t.spec, precision: 'f32' });
      const bf16 = await nativeAddon().loadModel({ ...t.spec, precision: 'bf16' });
      const { layers, kvHeads, headDim } = t.config;
      expect(f32.info().bytesPerPage).toBe(layers * 2 * 4 * kvHeads * headDim * 4);
      expect(bf16.info().bytesPerPage).toBe(layers * 2 * 4 * kvHeads * headDim * 2);
      expect(bf16.kvStats().pagesTotal).toBe(Math.floor((1 << 20) / bf16.info().bytesPerPage));
      expect(bf16.kvStats().pagesTotal).toBeGreaterThanOrEqual(2 * f32.kvStats().pagesTotal - 1);
      f32.dispose();
      bf16.dispose();
    } finally {
      t.cleanup();
    }
  });
});
