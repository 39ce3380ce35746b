import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeModel, SeqId } from '../../lib/native/addon-types.js';
import { nativeAddon } from '../../lib/native/load.js';
import { maxAbsDiff, referenceLogits } from '../helpers/reference-llama.js';
import { rng, writeTinyModel, type TinyModel, type TinyModelOptions } from '../helpers/tiny-model.js';

const addon = nativeAddon();

function randomTokens(n: number, seed: number, vocab = 256): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.floor(r() * vocab));
}

/** Row `i` of a [rows, vocab] logits array. */
const row = (logits: Float32Array, i: number, vocab: number) => logits.subarray(i * vocab, (i + 1) * vocab);

async function load(opts: TinyModelOptions): Promise<{ tiny: TinyModel; model: NativeModel }> {
  const tiny = writeTinyModel(opts);
  const model = await addon.loadModel(tiny.spec);
  return { tiny, model };
}

async function allLogits(model: NativeModel, tokens: number[]): Promise<Float32Array> {
  const s = model.createSequence(1);
  model.appendTokens(s, Int32Array.from(tokens));
  const out = await model.forward(Int32Array.of(s), 'all');
  model.release(s);
  return out;
}

function expectMatchesReference(tiny: TinyModel, tokens: number[], logits: Float32Array, tol: number): void {
  const ref = referenceLogits(tiny, tokens);
  const V = tiny.config.vocab;
  let worst = 0;
  ref.forEach((r, i) => (worst = Math.max(worst, maxAbsDiff(row(logits, i, V), r))));
  expect(worst).toBeLessThanOrEqual(tol);
}

describe('forward against the TypeScript reference', () => {
  const made: Array<{ tiny: TinyModel; model: NativeModel }> = [];
  afterAll(() => made.forEach(({ tiny, model }) => (model.dispose(), tiny.cleanup())));
  const loadKept = async (o: TinyModelOptions) => {
    const m = await load(o);
    made.push(m);
    return m;
  };

  it('matches the reference logits for F32 weights', async () => {
    const { tiny, model } = await loadKept({ dtype: 'F32', seed: 11 });
    const tokens = randomTokens(13, 1);
    expectMatchesReference(tiny, tokens, await allLogits(model, tokens), 1e-4);
  });

  it('matches the reference logits for BF16 weights (upcast exactly)', async () => {
    const { tiny, model } = await loadKept({ dtype: 'BF16', seed: 12 });
    const tokens = randomTokens(11, 2);
    expectMatchesReference(tiny, tokens, await allLogits(model, tokens), 1e-4);
  });

  it('matches the reference for a Qwen2-like model: F16, q/k/v bias, tied embeddings, 3 kv heads of 6', async () => {
    const { tiny, model } = await loadKept({ dtype: 'F16', attentionBias: true, tieWordEmbeddings: true, heads: 6, kvHeads: 3, headDim: 8, hidden: 48, seed: 13 });
    const tokens = randomTokens(9, 3);
    expectMatchesReference(tiny, tokens, await allLogits(model, tokens), 1e-4);
  });

  it('applies a per-layer sliding window like Hugging Face (the last W keys)', async () => {
    const { tiny, model } = await loadKept({ slidingWindow: [3, 0], seed: 14 });
    const tokens = randomTokens(12, 4);
    expectMatchesReference(tiny, tokens, await allLogits(model, tokens), 1e-4);
  });

  it('matches the reference when the head dimension is not a multiple of 8 (scalar attention tile)', async () => {
    const { tiny, model } = await loadKept({ heads: 4, kvHeads: 1, headDim: 12, hidden: 40, seed: 15 });
    const tokens = randomTokens(10, 5);
    expectMatchesReference(tiny, tokens, await allLogits(model, tokens), 1e-4);
  });

  it("matches the reference on the 'scalar' kernel variant", async () => {
    const tiny = writeTinyModel({ seed: 17 });
    const model = await addon.loadModel({ ...tiny.spec, isa: 'scalar' });
    made.push({ tiny, model });
    expect(model.info().isa).toBe('scalar');
    const tokens = randomTokens(9, 7);
    expectMatchesReference(tiny, tokens, await allLogits(model, tokens), 1e-4);
  });

  it('returns the same rows for a prompt longer than one 512-row chunk', async () => {
    const { tiny, model } = await loadKept({ seed: 16, hidden: 32, intermediate: 64, heads: 2, kvHeads: 1, layers: 1, pageTokens: 16, kvCacheBytes: 1 << 20 });
    const tokens = randomTokens(530, 6);
    const logits = await allLogits(model, tokens);
    const ref = referenceLogits(tiny, tokens);
    const V = tiny.config.vocab;
    let worst = 0;
    for (const i of [0, 100, 511, 512, 529]) worst = Math.max(worst, maxAbsDiff(row(logits, i, V), ref[i]));
    expect(worst).toBeLessThanOrEqual(1e-4);
  });
});

describe('incremental forward, forks and ragged batches', () => {
  let tiny: TinyModel;
  let model: NativeModel;
  beforeAll(async () => ({ tiny, model } = await load({ seed: 21, pageTokens: 4 })));
  afterAll(() => {
    model.dispose();
    tiny.cleanup();
  });

  it("returns one row per sequence with 'last', equal to the reference after its last token", async () => {
    const tokens = randomTokens(7, 30);
    const s = model.createSequence(0);
    model.appendTokens(s, Int32Array.from(tokens));
    const out = await model.forward(Int32Array.of(s), 'last');
    expect(out.length).toBe(tiny.config.vocab);
    expect(maxAbsDiff(out, referenceLogits(tiny, tokens)[6])).toBeLessThanOrEqual(1e-4);
    model.release(s);
  });

  it('decodes token by token through the KV cache like a full recompute', async () => {
    const tokens = randomTokens(10, 31);
    const ref = referenceLogits(tiny, tokens);
    const s = model.createSequence(0);
    model.appendTokens(s, Int32Array.from(tokens.slice(0, 3)));
    let worst = maxAbsDiff(await model.forward(Int32Array.of(s), 'last'), ref[2]);
    for (let t = 3; t < tokens.length; t++) {
      model.appendTokens(s, Int32Array.of(tokens[t]));
      worst = Math.max(worst, maxAbsDiff(await model.forward(Int32Array.of(s), 'last'), ref[t]));
    }
    expect(worst).toBeLessThanOrEqual(1e-4);
    model.release(s);
  });

  it('gives a forked sequence the same logits as a fresh sequence fed the whole prefix', async () => {
    const prefix = randomTokens(6, 32);
    const tail = randomTokens(3, 33);
    const parent = model.createSequence(0);
    model.appendTokens(parent, Int32Array.from(prefix));
    await model.forward(Int32Array.of(parent), 'last');
    const child = model.fork(parent);
    model.appendTokens(child, Int32Array.from(tail));
    const forked = await model.forward(Int32Array.of(child), 'all');
    const fresh = await allLogits(model, [...prefix, ...tail]);
    expect(maxAbsDiff(forked, fresh.subarray(prefix.length * tiny.config.vocab))).toBeLessThanOrEqual(1e-5);
    model.releaseMany(Int32Array.of(parent, child));
  });

  it('gives every row of a ragged batch (prefill and decode mixed) the value it has alone', async () => {
    const V = tiny.config.vocab;
    const prompts = [randomTokens(1, 40), randomTokens(9, 41), randomTokens(4, 42), randomTokens(13, 43)];
    // Sequence 2 already ran part of its prompt, so the batch mixes decode rows and prefill rows.
    const alone: Float32Array[] = [];
    for (const p of prompts) alone.push(await allLogits(model, p));
    const seqs = prompts.map(() => model.createSequence(0));
    model.appendTokens(seqs[2], Int32Array.from(prompts[2].slice(0, 3)));
    await model.forward(Int32Array.of(seqs[2]), 'last');
    model.appendTokens(seqs[2], Int32Array.from(prompts[2].slice(3)));
    prompts.forEach((p, i) => i !== 2 && model.appendTokens(seqs[i], Int32Array.from(p)));
    const batch = await model.forward(Int32Array.from(seqs), 'all');
    const expected = [alone[0], alone[1], alone[2].subarray(3 * V), alone[3]];
    const flat = new Float32Array(expected.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const e of expected) (flat.set(e, at), (at += e.length));
    expect(maxAbsDiff(batch, flat)).toBeLessThanOrEqual(1e-5);
    model.releaseMany(Int32Array.from(seqs));
  });

  it("re-runs the last token when 'last' is asked of a sequence with nothing pending", async () => {
    const tokens = randomTokens(5, 50);
    const s = model.createSequence(0);
    model.appendTokens(s, Int32Array.from(tokens));
    const first = await model.forward(Int32Array.of(s), 'last');
    const again = await model.forward(Int32Array.of(s), 'last');
    expect(maxAbsDiff(first, again)).toBeLessThanOrEqual(1e-6);
    model.release(s);
  });
});

describe('model object', () => {
  it('reports load progress as non-decreasing fractions ending at 1', async () => {
    const t = writeTinyModel({ seed: 41 });
    const seen: number[] = [];
    const m = await addon.loadModel(t.spec, (f) => seen.push(f));
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= seen[i - 1]))).toBe(true);
    expect(seen.at(-1)).toBe(1);
    expect(m.info().weightBytes).toBe(t.spec.tensors.reduce((n, x) => n + x.byteLength, 0));
    m.dispose();
    t.cleanup();
  });

  it('serialises overlapping forward calls: both resolve with their own logits', async () => {
    const { tiny, model } = await load({ seed: 42 });
    const a = randomTokens(6, 60), b = randomTokens(9, 61);
    const sa = model.createSequence(0), sb = model.createSequence(0);
    model.appendTokens(sa, Int32Array.from(a));
    model.appendTokens(sb, Int32Array.from(b));
    const [la, lb] = await Promise.all([model.forward(Int32Array.of(sa), 'last'), model.forward(Int32Array.of(sb), 'last')]);
    expect(maxAbsDiff(la, referenceLogits(tiny, a)[5])).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(lb, referenceLogits(tiny, b)[8])).toBeLessThanOrEqual(1e-4);
    model.dispose();
    tiny.cleanup();
  });

  it('rejects a forward queued before dispose with "model is disposed"', async () => {
    const { tiny, model } = await load({ seed: 43 });
    const s = model.createSequence(0);
    model.appendTokens(s, Int32Array.of(1, 2, 3));
    const first = model.forward(Int32Array.of(s), 'last');
    const second = model.forward(Int32Array.of(s), 'last');
    model.dispose();
    const results = await Promise.allSettled([first, second]);
    for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toContain('model is disposed');
    expect(results.some((r) => r.status === 'rejected')).toBe(true);
    tiny.cleanup();
  });
});

describe('bad input', () => {
  let tiny: TinyModel;
  let model: NativeModel;
  beforeAll(async () => ({ tiny, model } = await load({ seed: 31 })));
  afterAll(() => {
    model.dispose();
    tiny.cleanup();
  });

  it('rejects an unknown sequence id', () => {
    expect(() => model.appendTokens(999 as SeqId, Int32Array.of(1))).toThrow('sequence 999 does not exist (released or never created)');
  });

  it('rejects a released sequence', async () => {
    const s = model.createSequence(0);
    model.release(s);
    expect(() => model.sequenceLength(s)).toThrow(`sequence ${s} does not exist`);
    await expect(model.forward(Int32Array.of(s), 'last')).rejects.toThrow(`sequence ${s} does not exist`);
  });

  it('rejects a token id outside the vocabulary', () => {
    const s = model.createSequence(0);
    expect(() => model.appendTokens(s, Int32Array.of(3, 999))).toThrow('token id 999 is out of range for a vocabulary of 256');
    expect(model.sequenceLength(s)).toBe(0);
    model.release(s);
  });

  it('rejects a typed array of the wrong type', () => {
    const s = model.createSequence(0);
    expect(() => model.appendTokens(s, new Float32Array([1]) as unknown as Int32Array)).toThrow(/Int32Array/);
    model.release(s);
  });

  it('rejects a sequence listed twice in one forward', async () => {
    const s = model.createSequence(0);
    model.appendTokens(s, Int32Array.of(1, 2));
    await expect(model.forward(Int32Array.of(s, s), 'all')).rejects.toThrow('listed twice');
    model.release(s);
  });

  it('rejects a checkpoint that lacks a tensor, naming it', async () => {
    const t = writeTinyModel({ omit: ['model.layers.1.mlp.up_proj.weight'] });
    await expect(addon.loadModel(t.spec)).rejects.toThrow('tensor model.layers.1.mlp.up_proj.weight is missing');
    t.cleanup();
  });

  it('rejects tensor data that lies beyond the end of the file', async () => {
    const t = writeTinyModel({ pastEnd: ['model.norm.weight'] });
    await expect(addon.loadModel(t.spec)).rejects.toThrow(/tensor model\.norm\.weight data \[\d+, \d+\) lies beyond the end/);
    t.cleanup();
  });

  it('rejects a tensor whose byte length does not match its shape', async () => {
    const t = writeTinyModel({});
    const spec = { ...t.spec, tensors: t.spec.tensors.map((x) => (x.name === 'model.layers.0.self_attn.k_proj.weight' ? { ...x, byteLength: x.byteLength - 4 } : x)) };
    await expect(addon.loadModel(spec)).rejects.toThrow(/tensor model\.layers\.0\.self_attn\.k_proj\.weight has \d+ bytes, expected \d+/);
    t.cleanup();
  });

  it('rejects numHeads that is not a multiple of numKvHeads', async () => {
    const t = writeTinyModel({});
    expect(() => addon.loadModel({ ...t.spec, numKvHeads: 3 })).toThrow('multiple of `spec.numKvHeads`');
    t.cleanup();
  });

  it('throws "model is disposed" after dispose, and dispose twice is safe', async () => {
    const t = writeTinyModel({});
    const m = await addon.loadModel(t.spec);
    m.dispose();
    m.dispose();
    expect(() => m.createSequence(0)).toThrow('model is disposed');
    expect(() => m.kvStats()).toThrow('model is disposed');
    await expect(Promise.resolve().then(() => m.forward(Int32Array.of(0), 'last'))).rejects.toThrow('model is disposed');
    t.cleanup();
  });
});
