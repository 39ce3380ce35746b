// Output heads of the native model (NativeHeadSpec): lm-rows, mlp2 and linear against a float64
// TypeScript reference built on the reference decoder's final-normed hidden state.
import { afterAll, describe, expect, it } from 'vitest';
import type { NativeHeadSpec, NativeModel, NativeModelSpec } from '../../lib/native/addon-types.js';
import { nativeAddon } from '../../lib/native/load.js';
import { headValues, withHead, type HeadTensor } from '../helpers/head-tensors.js';
import { maxAbsDiff, referenceHidden, referenceLogits } from '../helpers/reference-llama.js';
import { rng, writeTinyModel, type TinyModel, type TinyModelOptions } from '../helpers/tiny-model.js';

const addon = nativeAddon();
const HIDDEN = 64;
const TOL = 1e-4;

function randomTokens(n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.floor(r() * 256));
}

/** y[n] = W[n, k] · x[k] (+ b), float64. */
function linear(x: Float64Array, w: Float32Array, n: number, b?: Float32Array): Float64Array {
  const k = x.length;
  return Float64Array.from({ length: n }, (_, i) => {
    let s = b ? b[i] : 0;
    for (let j = 0; j < k; j++) s += w[i * k + j] * x[j];
    return s;
  });
}

const tinies: TinyModel[] = [];
const models: NativeModel[] = [];
afterAll(() => {
  models.forEach((m) => m.dispose());
  tinies.forEach((t) => t.cleanup());
});

function tinyModel(opts: TinyModelOptions): TinyModel {
  const tiny = writeTinyModel({ hidden: HIDDEN, ...opts });
  tinies.push(tiny);
  return tiny;
}

async function load(spec: NativeModelSpec): Promise<NativeModel> {
  const m = await addon.loadModel(spec);
  models.push(m);
  return m;
}

/** Every position's output row for `tokens` on a fresh sequence. */
async function allRows(model: NativeModel, tokens: number[]): Promise<Float32Array> {
  const s = model.createSequence(0);
  model.appendTokens(s, Int32Array.from(tokens));
  const out = await model.forward(Int32Array.of(s), 'all');
  model.release(s);
  return out;
}

/** Largest |native - reference| over all rows. */
function worstRowDiff(rows: Float32Array, width: number, ref: Float64Array[]): number {
  expect(rows.length).toBe(ref.length * width);
  return Math.max(...ref.map((r, i) => maxAbsDiff(rows.subarray(i * width, (i + 1) * width), r)));
}

const mlp2Tensors = (outputs: number): HeadTensor[] => [
  { name: 'score.0.weight', shape: [HIDDEN, HIDDEN] },
  { name: 'score.0.bias', shape: [HIDDEN] },
  { name: 'score.2.weight', shape: [outputs, HIDDEN] },
  { name: 'score.2.bias', shape: [outputs] },
];

/** relu(W0 · h + b0), then W2 · + b2 for every hidden row. */
function mlp2Reference(hidden: Float64Array[], v: Map<string, Float32Array>, outputs: number): Float64Array[] {
  return hidden.map((h) => {
    const inner = linear(h, v.get('score.0.weight')!, HIDDEN, v.get('score.0.bias')).map((x) => Math.max(x, 0));
    return linear(inner, v.get('score.2.weight')!, outputs, v.get('score.2.bias'));
  });
}

describe('lm head', () => {
  it('reports the vocabulary as outputWidth when the spec names no head', async () => {
    const tiny = tinyModel({ seed: 20, vocab: 200 });
    const model = await load(tiny.spec);
    expect(model.info().outputWidth).toBe(200);
  });
});

describe('lm-rows head', () => {
  const ids = Int32Array.of(17, 3, 255, 3);

  it('returns only the lm_head rows of the given token ids, in their order', async () => {
    const tiny = tinyModel({ seed: 21 });
    const model = await load({ ...tiny.spec, head: { kind: 'lm-rows', tokenIds: ids } });
    expect(model.info().outputWidth).toBe(ids.length);
    const tokens = randomTokens(9, 1);
    const ref = referenceLogits(tiny, tokens).map((row) => Float64Array.from(ids, (id) => row[id]));
    expect(worstRowDiff(await allRows(model, tokens), ids.length, ref)).toBeLessThanOrEqual(TOL);
  });

  it('reads the embedding rows when the embeddings are tied', async () => {
    const tiny = tinyModel({ seed: 22, tieWordEmbeddings: true, dtype: 'BF16' });
    const model = await load({ ...tiny.spec, head: { kind: 'lm-rows', tokenIds: ids } });
    const tokens = randomTokens(7, 2);
    const ref = referenceLogits(tiny, tokens).map((row) => Float64Array.from(ids, (id) => row[id]));
    expect(worstRowDiff(await allRows(model, tokens), ids.length, ref)).toBeLessThanOrEqual(TOL);
  });

  it('keeps only the chosen rows of lm_head: weightBytes drops by the other rows', async () => {
    const tiny = tinyModel({ seed: 23 });
    const full = await load(tiny.spec);
    const rows = await load({ ...tiny.spec, head: { kind: 'lm-rows', tokenIds: ids } });
    const rowBytes = HIDDEN * 4;
    expect(full.info().weightBytes - rows.info().weightBytes).toBe((256 - ids.length) * rowBytes);
  });

  it('rejects a token id outside the vocabulary, naming it', () => {
    const tiny = tinyModel({ seed: 24 });
    const head: NativeHeadSpec = { kind: 'lm-rows', tokenIds: Int32Array.of(5, 256) };
    expect(() => addon.loadModel({ ...tiny.spec, head })).toThrow(
      new RangeError('`spec.head.tokenIds[1]` is 256, outside a vocabulary of 256'),
    );
  });

  it('rejects an empty token id list', () => {
    const tiny = tinyModel({ seed: 25 });
    expect(() => addon.loadModel({ ...tiny.spec, head: { kind: 'lm-rows', tokenIds: new Int32Array(0) } })).toThrow(RangeError);
  });
});

describe('mlp2 head (Qwen2.5-Math-PRM score head)', () => {
  it('matches Linear → ReLU → Linear on the final-normed hidden state, with no lm_head in the checkpoint', async () => {
    const tiny = tinyModel({ seed: 30, omit: ['lm_head.weight'] });
    const v = headValues(mlp2Tensors(2), 1);
    const model = await load(withHead(tiny, { kind: 'mlp2', prefix: 'score', outputs: 2 }, mlp2Tensors(2), v));
    expect(model.info().outputWidth).toBe(2);
    const tokens = randomTokens(12, 3);
    const ref = mlp2Reference(referenceHidden(tiny, tokens), v, 2);
    expect(worstRowDiff(await allRows(model, tokens), 2, ref)).toBeLessThanOrEqual(TOL);
  });

  it('matches the reference with BF16 head weights and 5 outputs', async () => {
    const tiny = tinyModel({ seed: 31, dtype: 'BF16', omit: ['lm_head.weight'] });
    const v = headValues(mlp2Tensors(5), 2);
    const model = await load(withHead(tiny, { kind: 'mlp2', prefix: 'score', outputs: 5 }, mlp2Tensors(5), v, 'BF16'));
    const tokens = randomTokens(6, 4);
    const ref = mlp2Reference(referenceHidden(tiny, tokens), v, 5);
    expect(worstRowDiff(await allRows(model, tokens), 5, ref)).toBeLessThanOrEqual(TOL);
  });

  it("returns one row per sequence for 'last' in a batch of sequences of different lengths", async () => {
    const tiny = tinyModel({ seed: 32, omit: ['lm_head.weight'] });
    const v = headValues(mlp2Tensors(2), 3);
    const model = await load(withHead(tiny, { kind: 'mlp2', prefix: 'score', outputs: 2 }, mlp2Tensors(2), v));
    const a = randomTokens(5, 5), b = randomTokens(11, 6);
    const sa = model.createSequence(0), sb = model.createSequence(0);
    model.appendTokens(sa, Int32Array.from(a));
    model.appendTokens(sb, Int32Array.from(b));
    const out = await model.forward(Int32Array.of(sa, sb), 'last');
    const ref = [mlp2Reference(referenceHidden(tiny, a), v, 2).at(-1)!, mlp2Reference(referenceHidden(tiny, b), v, 2).at(-1)!];
    expect(worstRowDiff(out, 2, ref)).toBeLessThanOrEqual(TOL);
    model.releaseMany(Int32Array.of(sa, sb));
  });

  it('rejects a checkpoint missing one of the head tensors, naming it', async () => {
    const tiny = tinyModel({ seed: 33, omit: ['lm_head.weight'] });
    const tensors = mlp2Tensors(2).filter((t) => t.name !== 'score.2.bias');
    const spec = withHead(tiny, { kind: 'mlp2', prefix: 'score', outputs: 2 }, tensors, headValues(tensors, 4));
    await expect(addon.loadModel(spec)).rejects.toThrow('tensor score.2.bias is missing from the checkpoint');
  });

  it('rejects a head tensor whose size does not match `outputs`', async () => {
    const tiny = tinyModel({ seed: 34, omit: ['lm_head.weight'] });
    const spec = withHead(tiny, { kind: 'mlp2', prefix: 'score', outputs: 3 }, mlp2Tensors(2), headValues(mlp2Tensors(2), 5));
    await expect(addon.loadModel(spec)).rejects.toThrow(/tensor score\.2\.weight has 512 bytes, expected 768/);
  });

  it('refuses generateStep: sampling needs a language-model head', async () => {
    const tiny = tinyModel({ seed: 35, omit: ['lm_head.weight'] });
    const model = await load(withHead(tiny, { kind: 'mlp2', prefix: 'score', outputs: 2 }, mlp2Tensors(2), headValues(mlp2Tensors(2), 6)));
    const s = model.createSequence(0);
    model.appendTokens(s, Int32Array.of(1, 2, 3));
    await expect(
      model.generateStep({
        seqs: Int32Array.of(s),
        temperature: Float32Array.of(0),
        topK: Int32Array.of(0),
        topP: Float32Array.of(1),
        minP: Float32Array.of(0),
        maxTokens: Int32Array.of(4),
        stop: [],
        stopAtEos: true,
      }),
    ).rejects.toThrow("generateStep needs a language-model head; this model's head is mlp2");
    expect(model.sequenceLength(s)).toBe(3);
    model.release(s);
  });
});

describe('linear head (value head)', () => {
  const tensors = (bias: boolean): HeadTensor[] => [
    { name: 'v_head.summary.weight', shape: [3, HIDDEN] },
    ...(bias ? [{ name: 'v_head.summary.bias', shape: [3] }] : []),
  ];

  it.each([true, false])('matches W · h (+ b) on the final-normed hidden state (bias %s)', async (bias) => {
    const tiny = tinyModel({ seed: bias ? 40 : 41 });
    const v = headValues(tensors(bias), 7);
    const model = await load(withHead(tiny, { kind: 'linear', prefix: 'v_head.summary', outputs: 3, bias }, tensors(bias), v));
    expect(model.info().outputWidth).toBe(3);
    const tokens = randomTokens(8, 8);
    const ref = referenceHidden(tiny, tokens).map((h) => linear(h, v.get('v_head.summary.weight')!, 3, v.get('v_head.summary.bias')));
    expect(worstRowDiff(await allRows(model, tokens), 3, ref)).toBeLessThanOrEqual(TOL);
  });
});

describe('head spec validation', () => {
  it('rejects an unknown head kind', () => {
    const tiny = tinyModel({ seed: 50 });
    const head = { kind: 'softmax' } as unknown as NativeHeadSpec;
    expect(() => addon.loadModel({ ...tiny.spec, head })).toThrow(
      new TypeError("Expected `spec.head.kind` to be 'lm', 'lm-rows', 'mlp2' or 'linear', got 'softmax'"),
    );
  });

  it('rejects zero outputs', () => {
    const tiny = tinyModel({ seed: 51 });
    expect(() => addon.loadModel({ ...tiny.spec, head: { kind: 'linear', prefix: 'v', outputs: 0, bias: false } })).toThrow(RangeError);
  });
});
