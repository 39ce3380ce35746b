// The same GGUF file through llama.cpp (node-llama-cpp's prebuilt CPU binary) and through thinktree,
// on the tiny fixtures written by our exporter in their own weight types.
//
// Tolerances: thinktree runs at precision 'f32' (f32 activations, weights upcast exactly), llama.cpp
// with an f32 KV cache. For F32 weights both compute the same f32 math in different summation
// orders: 1e-4 absolute, as our conformance tests against PyTorch. For F16 and BF16 weights ggml's
// CPU dot products first round the activations to the weight type (F16: 11 significant bits, 2^-12
// relative; BF16: 8 bits, 2^-9), in every projection of every layer, and these fixtures' logits reach
// |20|; the differences that leaves are stated relative to the row set's largest |logit|: F16 0.5%
// (measured 0.2%), BF16 3% (measured 1.7%). Where llama.cpp's top-2 margin exceeds twice that
// tolerance, both pick the same greedy token. Perplexity: within 1% of llama.cpp's on a text.
//
// llama.cpp implements no sliding window for `llama` (Mistral) or `qwen2`, so the fixtures with one
// are compared as copies with the window turned off; thinktree's own reading of the window is
// checked against the safetensors model in load.test.ts.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlamaModel } from 'node-llama-cpp';
import { exportGguf, type GgufTargetType } from '../../../lib/models/gguf/export.js';
import { loadModel, type Model } from '../../../lib/models/model.js';
import { TINY_DIR, readReference } from '../../helpers/reference-fixtures.js';
import { llamaCppLogits, loadLlamaCpp, type LlamaCppRuntime } from '../../helpers/llama-cpp.js';
import { meanNll } from '../../helpers/nll.js';

const runtime = await loadLlamaCpp();
const skip = typeof runtime === 'string' ? runtime : undefined;
if (skip !== undefined) console.warn(`skipping the llama.cpp cross-checks: ${skip}`);

const tmp = await mkdtemp(path.join(os.tmpdir(), 'gguf-llama-cpp-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** [fixture, weight type, tolerance: absolute for F32, relative to the largest |logit| otherwise]. */
const CASES: ReadonlyArray<[string, GgufTargetType, number]> = [
  ['llama-f32', 'f32', 1e-4],
  ['llama-bf16-sharded', 'bf16', 0.03],
  ['qwen2-bf16', 'bf16', 0.03],
  ['mistral-f16', 'f16', 0.005],
];

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** [argmax, top-1 minus top-2]. */
function top2(row: Float32Array): [number, number] {
  let best = 0;
  let second = -Infinity;
  for (let i = 1; i < row.length; i++) {
    if (row[i]! > row[best]!) {
      second = row[best]!;
      best = i;
    } else if (row[i]! > second) second = row[i]!;
  }
  return [best, row[best]! - second];
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

/** A copy of a fixture with full attention on every layer. */
async function withoutSlidingWindow(name: string): Promise<string> {
  const dir = path.join(tmp, `${name}-full`);
  await cp(path.join(TINY_DIR, name), dir, { recursive: true });
  const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  config.use_sliding_window = false;
  config.sliding_window = null;
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

describe.skipIf(skip !== undefined).each(CASES)('%s as a %s GGUF: thinktree against llama.cpp', (name, type, tol) => {
  const fixture = path.join(TINY_DIR, name);
  const file = path.join(tmp, `${name}.gguf`);
  let ours: Model;
  let theirs: LlamaModel;
  beforeAll(async () => {
    await exportGguf(await withoutSlidingWindow(name), file, { type });
    ours = await loadModel(file, { precision: 'f32', threads: 2, kvCacheBytes: 8 << 20, device: 'cpu' });
    theirs = await (runtime as LlamaCppRuntime).llama.loadModel({ modelPath: file, gpuLayers: 0 });
  });
  afterAll(async () => {
    ours?.dispose();
    await theirs?.dispose();
  });

  it(`logits agree within ${type === 'f32' ? tol : `${tol * 100}% of the largest |logit|`} at every position, and greedy picks where the margin is clear`, async () => {
    const vocab = ours.config.vocabSize;
    for (const p of readReference(fixture).prompts) {
      const want = await llamaCppLogits(theirs, p.tokens, vocab);
      const got = await ours.logits(p.tokens);
      const bound = type === 'f32' ? tol : tol * maxAbs(want);
      expect(maxAbsDiff(got, want), p.name).toBeLessThanOrEqual(bound);
      for (let i = 0; i < p.tokens.length; i++) {
        const [top, margin] = top2(want.subarray(i * vocab, (i + 1) * vocab));
        if (margin > 2 * bound) expect(top2(got.subarray(i * vocab, (i + 1) * vocab))[0], `${p.name} @${i}`).toBe(top);
      }
    }
  });

  it('perplexity on a text is within 1% of llama.cpp’s', async () => {
    const text = 'The quick brown fox jumps over the lazy dog. 12 + 30 = 42, and 7 * 6 = 42 as well; so both answers are 42.';
    const tokens = Array.from(ours.tokenizer.encode(text));
    const vocab = ours.config.vocabSize;
    const pplOurs = Math.exp(meanNll(await ours.logits(tokens), tokens, vocab));
    const pplTheirs = Math.exp(meanNll(await llamaCppLogits(theirs, tokens, vocab), tokens, vocab));
    expect(Math.abs(pplOurs / pplTheirs - 1)).toBeLessThanOrEqual(0.01);
  });

  it('llama.cpp tokenizes the text as thinktree does', () => {
    for (const text of ['Hello world', ' 12 + 7 = 19\n\nso', '<|im_start|>user\nhi<|im_end|>']) {
      expect(theirs.tokenize(text, true).map(Number), text).toEqual(Array.from(ours.tokenizer.encode(text)));
    }
  });
});
