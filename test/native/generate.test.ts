import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeGenerateStepRequest, NativeModel, SeqId } from '../../lib/native/addon-types.js';
import { nativeAddon } from '../../lib/native/load.js';
import { argmax, logSoftmaxAt, referenceLogits } from '../helpers/reference-llama.js';
import { bytesPerPage, rng, writeTinyModel, type TinyModel, type TinyModelOptions } from '../helpers/tiny-model.js';

const addon = nativeAddon();
const STOP = 0, EOS = 1, LENGTH = 2;

/** Greedy continuation by the reference: argmax over [0, vocabLimit) after each token. */
function referenceGreedy(tiny: TinyModel, prompt: number[], steps: number, vocabLimit = tiny.config.vocab) {
  const tokens = [...prompt];
  const logprobs: number[] = [];
  for (let i = 0; i < steps; i++) {
    const last = referenceLogits(tiny, tokens).at(-1)!;
    const t = argmax(last, vocabLimit);
    logprobs.push(logSoftmaxAt(last, t, vocabLimit));
    tokens.push(t);
  }
  return { tokens: tokens.slice(prompt.length), logprobs };
}

function request(seqs: SeqId[], o: { maxTokens: number; temperature?: number; stop?: string[]; stopAtEos?: boolean }): NativeGenerateStepRequest {
  const n = seqs.length;
  return {
    seqs: Int32Array.from(seqs),
    temperature: new Float32Array(n).fill(o.temperature ?? 0),
    topK: new Int32Array(n),
    topP: new Float32Array(n).fill(1),
    minP: new Float32Array(n),
    maxTokens: new Int32Array(n).fill(o.maxTokens),
    stop: (o.stop ?? []).map((s) => Uint8Array.from(Buffer.from(s, 'latin1'))),
    stopAtEos: o.stopAtEos ?? true,
  };
}

function prompted(model: NativeModel, prompt: number[], seed = 0): SeqId {
  const s = model.createSequence(seed);
  model.appendTokens(s, Int32Array.from(prompt));
  return s;
}

const PROMPT = [17, 200, 3, 99, 45];

describe('generateStep', () => {
  let tiny: TinyModel;
  let model: NativeModel;
  let greedy: { tokens: number[]; logprobs: number[] };
  beforeAll(async () => {
    tiny = writeTinyModel({ seed: 7, pageTokens: 4 });
    model = await addon.loadModel(tiny.spec);
    greedy = referenceGreedy(tiny, PROMPT, 16);
  });
  afterAll(() => {
    model.dispose();
    tiny.cleanup();
  });

  it('generates the argmax of the reference at every step when greedy', async () => {
    const s = prompted(model, PROMPT);
    const res = await model.generateStep(request([s], { maxTokens: 12 }));
    expect(Array.from(res.tokens)).toEqual(greedy.tokens.slice(0, 12));
    expect(Array.from(res.tokenCounts)).toEqual([12]);
    expect(Array.from(res.finish)).toEqual([LENGTH]);
    model.release(s);
  });

  it('reports each token’s log-probability under the unfiltered distribution', async () => {
    const s = prompted(model, PROMPT);
    const res = await model.generateStep(request([s], { maxTokens: 6 }));
    const err = Array.from(res.logprobs).map((lp, i) => Math.abs(lp - greedy.logprobs[i]));
    expect(Math.max(...err)).toBeLessThanOrEqual(1e-4);
    model.release(s);
  });

  it('stops on a stop string that spans a token boundary, keeping the token that completes it', async () => {
    const g = greedy.tokens;
    // The first k >= 4 whose byte pair (g[k-1], g[k]) has not appeared earlier in the output.
    let k = 4;
    const seen = (j: number) => g.slice(0, j).some((_, i) => i > 0 && g[i - 1] === g[j - 1] && g[i] === g[j]);
    while (seen(k)) k++;
    const stop = String.fromCharCode(g[k - 1], g[k]);
    const s = prompted(model, PROMPT);
    const res = await model.generateStep(request([s], { maxTokens: 16, stop: ['\u00ff\u00fe\u00fd', stop] }));
    expect(Array.from(res.tokens)).toEqual(g.slice(0, k + 1));
    expect(Array.from(res.finish)).toEqual([STOP]);
    model.release(s);
  });

  it('stops on a three-byte stop string spread over three tokens', async () => {
    const g = greedy.tokens;
    const stop = String.fromCharCode(g[2], g[3], g[4]);
    const first = g.findIndex((_, i) => i >= 2 && g[i - 2] === g[2] && g[i - 1] === g[3] && g[i] === g[4]);
    const s = prompted(model, PROMPT);
    const res = await model.generateStep(request([s], { maxTokens: 16, stop: [stop] }));
    expect(Array.from(res.tokenCounts)).toEqual([first + 1]);
    expect(Array.from(res.finish)).toEqual([STOP]);
    model.release(s);
  });

  it('ends at maxTokens with finish Length, and generates nothing for maxTokens 0', async () => {
    const a = prompted(model, PROMPT);
    const b = prompted(model, PROMPT);
    const req = request([a, b], { maxTokens: 3 });
    req.maxTokens[1] = 0;
    const res = await model.generateStep(req);
    expect(Array.from(res.tokenCounts)).toEqual([3, 0]);
    expect(Array.from(res.finish)).toEqual([LENGTH, LENGTH]);
    expect(model.sequenceLength(b)).toBe(PROMPT.length);
    model.releaseMany(Int32Array.of(a, b));
  });

  it('continues in a second step where the first stopped (the last token stays pending)', async () => {
    const s = prompted(model, PROMPT);
    const first = await model.generateStep(request([s], { maxTokens: 5 }));
    expect(model.sequenceLength(s)).toBe(PROMPT.length + 5);
    const second = await model.generateStep(request([s], { maxTokens: 5 }));
    expect([...first.tokens, ...second.tokens]).toEqual(greedy.tokens.slice(0, 10));
    model.release(s);
  });

  it('gives forks of one prompt the reference continuation when they decode together', async () => {
    const parent = prompted(model, PROMPT);
    await model.forward(Int32Array.of(parent), 'last');
    const kids = model.forkMany(Int32Array.of(parent, parent, parent));
    const res = await model.generateStep(request([...kids] as SeqId[], { maxTokens: 6 }));
    const expected = greedy.tokens.slice(0, 6);
    expect(Array.from(res.tokens)).toEqual([...expected, ...expected, ...expected]);
    model.releaseMany(Int32Array.of(parent, ...kids));
  });

  it('draws the same tokens for the same seed alone or in a batch of 5 other sequences', async () => {
    const alone = prompted(model, PROMPT, 1234);
    const solo = await model.generateStep(request([alone], { maxTokens: 10, temperature: 1 }));
    const r = rng(3);
    const others = Array.from({ length: 5 }, (_, i) =>
      prompted(model, Array.from({ length: 2 + i }, () => Math.floor(r() * 256)), 99 + i),
    );
    const again = prompted(model, PROMPT, 1234);
    const batch = await model.generateStep(request([others[0], others[1], again, others[2], others[3], others[4]], { maxTokens: 10, temperature: 1 }));
    const offset = batch.tokenCounts[0] + batch.tokenCounts[1];
    expect(Array.from(batch.tokens.subarray(offset, offset + batch.tokenCounts[2]))).toEqual(Array.from(solo.tokens));
    model.releaseMany(Int32Array.of(alone, again, ...others));
  });

  it('rejects an empty stop string', () => {
    const s = prompted(model, PROMPT);
    expect(() => model.generateStep(request([s], { maxTokens: 2, stop: [''] }))).toThrow('non-empty');
    model.release(s);
  });
});

describe('generateStep with model-specific token sets', () => {
  const made: TinyModel[] = [];
  const models: NativeModel[] = [];
  afterAll(() => {
    models.forEach((m) => m.dispose());
    made.forEach((t) => t.cleanup());
  });
  const load = async (o: TinyModelOptions) => {
    const t = writeTinyModel(o);
    made.push(t);
    const m = await addon.loadModel(t.spec);
    models.push(m);
    return { tiny: t, model: m };
  };

  it('stops at an EOS token (kept in the output) only when stopAtEos is set', async () => {
    const ref = writeTinyModel({ seed: 8 });
    made.push(ref);
    const g = referenceGreedy(ref, PROMPT, 10).tokens;
    const j = g.findIndex((t, i) => i >= 2 && !g.slice(0, i).includes(t));
    const { model } = await load({ seed: 8, eosTokenIds: [g[j]] });
    const a = prompted(model, PROMPT);
    const stopped = await model.generateStep(request([a], { maxTokens: 10, stopAtEos: true }));
    expect(Array.from(stopped.tokens)).toEqual(g.slice(0, j + 1));
    expect(Array.from(stopped.finish)).toEqual([EOS]);
    const b = prompted(model, PROMPT);
    const through = await model.generateStep(request([b], { maxTokens: 10, stopAtEos: false }));
    expect(Array.from(through.tokens)).toEqual(g);
    expect(Array.from(through.finish)).toEqual([LENGTH]);
  });

  it('never samples a padded embedding row beyond the tokenizer vocabulary', async () => {
    const { tiny, model } = await load({ seed: 9, tokenizerVocab: 200, boostRowsFrom: 200 });
    const full = referenceGreedy(tiny, PROMPT, 8).tokens;
    expect(full.some((t) => t >= 200)).toBe(true); // the padded rows would win without the mask
    const masked = referenceGreedy(tiny, PROMPT, 8, 200).tokens;
    const s = prompted(model, PROMPT);
    const res = await model.generateStep(request([s], { maxTokens: 8 }));
    expect(Array.from(res.tokens)).toEqual(masked);
  });

  it('rolls a step back and rejects with KV_BUDGET when pages run out mid-generation', async () => {
    const t = writeTinyModel({ seed: 7, pageTokens: 4 });
    made.push(t);
    t.spec.kvCacheBytes = 3 * bytesPerPage(t);
    const model = await addon.loadModel(t.spec);
    models.push(model);
    const s = prompted(model, PROMPT); // 5 tokens: 2 pages; the 13th token needs a 4th page
    const err = await model.generateStep(request([s], { maxTokens: 20 })).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('KV_BUDGET');
    expect(model.sequenceLength(s)).toBe(PROMPT.length);
    const res = await model.generateStep(request([s], { maxTokens: 4 }));
    const g = referenceGreedy(t, PROMPT, 4).tokens;
    expect(Array.from(res.tokens)).toEqual(g);
    model.release(s);
    expect(model.kvStats().pagesFree).toBe(3);
  });
});
