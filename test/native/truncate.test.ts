// NativeModel.truncate: dropping a sequence's tail (KV and pending tokens alike), page accounting, and
// copy-on-write of a shared page that one owner has cut shorter than the others.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeModel, SeqId } from '../../lib/native/addon-types.js';
import { nativeAddon } from '../../lib/native/load.js';
import { maxAbsDiff, referenceLogits } from '../helpers/reference-llama.js';
import { rng, writeTinyModel, type TinyModel } from '../helpers/tiny-model.js';

const addon = nativeAddon();
const TOL = 1e-4;

describe('truncate (pageTokens 4)', () => {
  let tiny: TinyModel;
  let model: NativeModel;
  const r = rng(9);
  const tokens = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 256));
  beforeAll(async () => {
    tiny = writeTinyModel({ seed: 8, pageTokens: 4 });
    model = await addon.loadModel(tiny.spec);
  });
  afterAll(() => {
    model.dispose();
    tiny.cleanup();
  });
  const inUse = () => model.kvStats().pagesInUse;
  const lastRef = (t: number[]) => referenceLogits(tiny, t).at(-1)!;
  const last = (s: SeqId) => model.forward(Int32Array.of(s), 'last');
  async function computed(t: number[]): Promise<SeqId> {
    const s = model.createSequence(0);
    model.appendTokens(s, Int32Array.from(t));
    await last(s);
    return s;
  }

  it.each([
    ['inside a page', 10, 6],
    ['at a page boundary', 10, 8],
    ['to one token', 9, 1],
  ])('gives the same logits after truncating %s and appending as a fresh sequence', async (_, n, keep) => {
    const prompt = tokens(n);
    const s = await computed(prompt);
    model.truncate(s, keep);
    const tail = tokens(3);
    model.appendTokens(s, Int32Array.from(tail));
    const got = await last(s);
    const want = [...prompt.slice(0, keep), ...tail];
    const fresh = await computed(want);
    expect(maxAbsDiff(got, await last(fresh))).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(got, lastRef(want))).toBeLessThanOrEqual(TOL);
    expect(Array.from(model.sequenceTokens(s))).toEqual(want);
    model.releaseMany(Int32Array.of(s, fresh));
  });

  it('drops pending tokens too: only the kept ones run', async () => {
    const prompt = tokens(5);
    const s = await computed(prompt);
    const pending = tokens(6);
    model.appendTokens(s, Int32Array.from(pending));
    model.truncate(s, 8); // 5 computed + 3 of the pending
    expect(model.sequenceLength(s)).toBe(8);
    expect(maxAbsDiff(await last(s), lastRef([...prompt, ...pending.slice(0, 3)]))).toBeLessThanOrEqual(TOL);
    model.release(s);
  });

  it('re-runs the last kept token when no token is pending after the cut', async () => {
    const prompt = tokens(11);
    const s = await computed(prompt);
    model.truncate(s, 7);
    expect(maxAbsDiff(await last(s), lastRef(prompt.slice(0, 7)))).toBeLessThanOrEqual(TOL);
    model.release(s);
  });

  it('returns the pages past the kept length to the pool at once', async () => {
    const base = inUse();
    const s = await computed(tokens(13)); // 4 pages
    expect(inUse()).toBe(base + 4);
    model.truncate(s, 5); // 2 pages
    expect(inUse()).toBe(base + 2);
    model.truncate(s, 0);
    expect(inUse()).toBe(base);
    expect(model.sequenceLength(s)).toBe(0);
    model.release(s);
  });

  it('leaves a forked sibling’s logits unchanged when one fork is cut into the shared pages', async () => {
    const prompt = tokens(10); // pages [4][4][2]
    const parent = await computed(prompt);
    const child = model.fork(parent);
    model.truncate(child, 6); // keeps page 1 shared, half of it
    const childTail = tokens(4);
    model.appendTokens(child, Int32Array.from(childTail));
    const childLogits = await last(child);
    const next = tokens(1);
    model.appendTokens(parent, Int32Array.from(next));
    expect(maxAbsDiff(await last(parent), lastRef([...prompt, ...next]))).toBeLessThanOrEqual(TOL);
    expect(maxAbsDiff(childLogits, lastRef([...prompt.slice(0, 6), ...childTail]))).toBeLessThanOrEqual(TOL);
    model.releaseMany(Int32Array.of(parent, child));
  });

  it('copies a shared page before a shorter owner writes into it, never overwriting the longer owner', async () => {
    const prompt = tokens(8); // two full pages
    const parent = await computed(prompt);
    const child = model.fork(parent);
    const base = inUse();
    model.truncate(parent, 5); // the parent's fill of page 1 drops to 1; the child's stays 4
    model.appendTokens(parent, Int32Array.from(tokens(2)));
    await last(parent);
    expect(inUse()).toBe(base + 1); // page 1 was copied, not written in place
    // The child's own page 1 still holds prompt[4..8): re-running its last token reads them.
    expect(maxAbsDiff(await last(child), lastRef(prompt))).toBeLessThanOrEqual(TOL);
    model.releaseMany(Int32Array.of(parent, child));
  });

  it('writes in place once the cut owner is the page’s last owner', async () => {
    const prompt = tokens(7);
    const parent = await computed(prompt);
    const child = model.fork(parent);
    model.release(parent);
    const base = inUse();
    model.truncate(child, 5);
    const tail = tokens(2);
    model.appendTokens(child, Int32Array.from(tail));
    const got = await last(child);
    expect(inUse()).toBe(base);
    expect(maxAbsDiff(got, lastRef([...prompt.slice(0, 5), ...tail]))).toBeLessThanOrEqual(TOL);
    model.release(child);
  });

  it('returns every page once a tree of truncated forks is released', async () => {
    const before = model.kvStats();
    const root = await computed(tokens(9));
    const kids = model.forkMany(Int32Array.of(root, root, root));
    [3, 4, 9].forEach((len, i) => model.truncate(kids[i] as SeqId, len));
    for (const k of kids) model.appendTokens(k as SeqId, Int32Array.from(tokens(5)));
    await model.forward(kids, 'last');
    const grand = model.forkMany(Int32Array.of(kids[1], kids[1]));
    model.truncate(grand[0] as SeqId, 2);
    model.appendTokens(grand[0] as SeqId, Int32Array.from(tokens(3)));
    model.appendTokens(grand[1] as SeqId, Int32Array.from(tokens(1)));
    await model.forward(grand, 'last');
    model.truncate(root, 1);
    model.releaseMany(Int32Array.of(root, ...kids, ...grand));
    // Page ownership is back where it was (the prefix cache may now hold more released pages: free ones).
    const { pagesInUse, pagesFree, sequences } = before;
    expect(model.kvStats()).toMatchObject({ pagesInUse, pagesFree, sequences });
  });

  it('is a no-op at the current length', async () => {
    const prompt = tokens(6);
    const s = await computed(prompt);
    const base = inUse();
    model.truncate(s, 6);
    expect(inUse()).toBe(base);
    expect(maxAbsDiff(await last(s), lastRef(prompt))).toBeLessThanOrEqual(TOL);
    model.release(s);
  });

  it('throws a RangeError naming both lengths when asked to grow the sequence', () => {
    const s = model.createSequence(0);
    model.appendTokens(s, Int32Array.from(tokens(10)));
    // A RangeError with code OUT_OF_RANGE (lib/errors.ts turns it into an OptionError for users).
    expect(() => model.truncate(s, 12)).toThrow(RangeError);
    expect(() => model.truncate(s, 12)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE', message: `cannot truncate sequence ${s} to length 12: it holds 10 tokens` }));
    expect(model.sequenceLength(s)).toBe(10);
    model.release(s);
  });

  it('rejects a released sequence and a negative length', () => {
    const s = model.createSequence(0);
    model.release(s);
    expect(() => model.truncate(s, 0)).toThrow(`sequence ${s} does not exist`);
    const t = model.createSequence(0);
    expect(() => model.truncate(t, -1)).toThrow(RangeError);
    model.release(t);
  });
});
