// Quantized GGUF files (Q8_0, Q4_0, Q4_K, Q6_K): written by our exporter with the addon's quantizer,
// loaded by thinktree and by llama.cpp. Skipped, naming why, on a build without the quantized kernels.
//
// Tolerances against llama.cpp, relative to the largest |logit|. Both engines read the same blocks
// and neither departs from the model the file holds except by how it rounds the activations: at any
// batch size llama.cpp rounds the input of every quantized product to 8-bit blocks (q8_0 blocks of 32
// for Q8_0 / Q4_0 weights, q8_K blocks of 256 for the K-quants), while thinktree, at the 8 rows and
// more of these prompts, computes on the decoded weights in f32 (quant-activations.test.ts proves both
// to 1e-4 for Q8_0 and Q4_0 files of the llama-f32 fixture). So the gap is what 2^-8 rounding steps
// do to a model:
//   - on the 256-wide random model (weights ~0.05, logits within a few units) little: measured Q8_0
//     0.9%, Q4_0 0.9%, Q4_K 1.5%, Q6_K 1.1%; bounds 2%, 2%, 3%, 2%;
//   - on the 64-wide, 3-layer fixtures, whose logits reach |20| and move 1.7% under BF16's 2^-9
//     activation rounding (llama-cpp.test.ts), much more: measured Q8_0 (llama-f32) 6.4% to 11.9%,
//     Q4_0 (qwen2-bf16) 5.1% to 7.7%; the f64 reference with ggml's rounding moves by as much from
//     the dequantized model (up to 11.8% and 8.5%), so the bounds are 15% and 12%.
// Perplexity within 1% of llama.cpp's is checked where it means something: the 256-wide model
// (perplexity ~400 over 336 ids) here, and the trained demo policy in quantized-perplexity.test.ts.
// The 64-wide fixtures are confidently wrong on every token of a text (perplexity 3e6 to 6e6, a mean
// negative log-likelihood of 15 nats), where the logit gap above shifts it by 0.04 nats: 4% for Q8_0.
// llama.cpp implements no sliding window for qwen2, so that fixture is compared as a copy without one.
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlamaModel } from 'node-llama-cpp';
import { expectedTensors } from '../../../lib/models/checkpoint.js';
import { parseModelConfig } from '../../../lib/models/config.js';
import { nativeWeightTypes } from '../../../lib/models/gguf/checkpoint.js';
import { exportGguf, type GgufTargetType } from '../../../lib/models/gguf/export.js';
import { readGgufHeader } from '../../../lib/models/gguf/reader.js';
import { loadModel, type LoadModelOptions, type Model } from '../../../lib/models/model.js';
import { encodeSafetensors, type TensorInput } from '../../../lib/models/safetensors.js';
import { llamaCppLogits, loadLlamaCpp, type LlamaCppRuntime } from '../../helpers/llama-cpp.js';
import { TINY_DIR, readReference } from '../../helpers/reference-fixtures.js';
import { rng } from '../../helpers/tiny-model.js';
import { meanNll } from '../../helpers/nll.js';

const hasQuant = nativeWeightTypes().includes('Q8_0');
const runtime = hasQuant ? await loadLlamaCpp() : 'the addon has no quantized kernels';
const noQuant = hasQuant ? undefined : 'this build of the addon has no quantized kernels (addon.quantize is missing)';
if (noQuant !== undefined) console.warn(`skipping the quantized GGUF tests: ${noQuant}`);

const tmp = await mkdtemp(path.join(os.tmpdir(), 'gguf-quant-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

/**
 * A Qwen2 directory whose rows are whole K blocks (hidden 256, intermediate 512), random BF16 weights
 * of magnitude ~0.05, the qwen2-bf16 fixture's tokenizer.
 */
async function kBlockModel(): Promise<string> {
  const dir = path.join(tmp, 'qwen2-k');
  await mkdir(dir, { recursive: true });
  const config = {
    architectures: ['Qwen2ForCausalLM'], hidden_size: 256, intermediate_size: 512, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 336, rms_norm_eps: 1e-6, rope_theta: 10000,
    max_position_embeddings: 512, tie_word_embeddings: true, eos_token_id: 317, bos_token_id: 317, torch_dtype: 'bfloat16',
  };
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(path.join(TINY_DIR, 'qwen2-bf16', f), path.join(dir, f));
  const next = rng(29);
  const tensors: Record<string, TensorInput> = {};
  for (const t of expectedTensors(parseModelConfig(config))) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const f = new Float32Array(n).map(() => (t.shape.length === 1 && t.name.endsWith('norm.weight') ? 1 : (next() - 0.5) * 0.1));
    const bits = new Uint16Array(new Uint32Array(f.buffer).map((u) => u >>> 16));
    tensors[t.name] = { dtype: 'BF16', shape: t.shape, data: bits };
  }
  await writeFile(path.join(dir, 'model.safetensors'), encodeSafetensors(tensors));
  return dir;
}

/** A copy of a fixture with full attention on every layer (llama.cpp has no qwen2 sliding window). */
async function withoutSlidingWindow(name: string): Promise<string> {
  const dir = path.join(tmp, `${name}-full`);
  await cp(path.join(TINY_DIR, name), dir, { recursive: true });
  const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  config.use_sliding_window = false;
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

/**
 * [fixture, type, logit tolerance relative to the largest |logit|, whether perplexity is compared].
 * Q4_K: both engines round X to int8 per 256 values against it (llama.cpp's Q8_K, thinktree's
 * blocks of 256) and agree to 1.2e-7 here (measured on an AVX2 host; 1.6% when thinktree rounded per
 * 32); 0.5% leaves room for an input that lands on a rounding tie where the engines sum in another
 * order. Q6_K, though rounded per 256 by both too, measured 1.7% (1.5% when thinktree rounded per 32):
 * llama.cpp's path for it differs from the dequantized model on Q8_K activations in a way not yet
 * pinned down.
 */
const CASES: ReadonlyArray<[string, GgufTargetType, number, boolean]> = [
  ['llama-f32', 'q8_0', 0.15, false],
  ['qwen2-bf16', 'q4_0', 0.12, false],
  ['qwen2-k', 'q8_0', 0.02, true],
  ['qwen2-k', 'q4_0', 0.02, true],
  ['qwen2-k', 'q4_k', 0.005, true],
  ['qwen2-k', 'q6_k', 0.03, true],
];

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

describe.skipIf(noQuant !== undefined).each(CASES)('%s as a %s GGUF', (name, type, tol, comparePerplexity) => {
  let dir: string;
  let file: string;
  let fromFile: Model;
  beforeAll(async () => {
    dir = name === 'qwen2-k' ? await kBlockModel() : name === 'qwen2-bf16' ? await withoutSlidingWindow(name) : path.join(TINY_DIR, name);
    file = path.join(tmp, `${name}-${type}.gguf`);
    await exportGguf(dir, file, { type });
    fromFile = await loadModel(file, { precision: 'f32', threads: 2, kvCacheBytes: 8 << 20, device: 'cpu' });
  });
  afterAll(() => fromFile?.dispose());

  it(`stores the matrices as ${type.toUpperCase()} blocks`, async () => {
    const g = await readGgufHeader(file);
    expect(g.tensors.get('blk.0.ffn_up.weight')!.type.name).toBe(type.toUpperCase());
    expect(g.tensors.get('blk.0.attn_norm.weight')!.type.name).toBe('F32');
  });

  it('equals quantize-on-load of the safetensors it came from, logit for logit', async () => {
    const onLoad = await loadModel(dir, { precision: 'f32', threads: 2, kvCacheBytes: 8 << 20, device: 'cpu', weights: type } as LoadModelOptions);
    try {
      const tokens = Array.from(fromFile.tokenizer.encode('The quick brown fox: 12 + 30 = 42.'));
      expect(maxAbsDiff(await fromFile.logits(tokens), await onLoad.logits(tokens))).toBe(0);
    } finally {
      onLoad.dispose();
    }
  });

  describe.skipIf(typeof runtime === 'string')('against llama.cpp', () => {
    let theirs: LlamaModel;
    beforeAll(async () => {
      theirs = await (runtime as LlamaCppRuntime).llama.loadModel({ modelPath: file, gpuLayers: 0 });
    });
    afterAll(async () => theirs?.dispose());

    it(`logits agree within ${tol * 100}% of the largest |logit|`, async () => {
      const vocab = fromFile.config.vocabSize;
      const prompts = name === 'qwen2-k' ? [{ name: 'text', tokens: Array.from(fromFile.tokenizer.encode('Hello world, 12 + 7 = 19')) }] : readReference(path.join(TINY_DIR, name)).prompts;
      for (const p of prompts) {
        const want = await llamaCppLogits(theirs, p.tokens, vocab);
        const got = await fromFile.logits(p.tokens);
        expect(maxAbsDiff(got, want), p.name).toBeLessThanOrEqual(tol * maxAbs(want));
      }
    });

    it.skipIf(!comparePerplexity)('perplexity on a text is within 1% of llama.cpp’s', async () => {
      const text = 'The quick brown fox jumps over the lazy dog. 12 + 30 = 42, and 7 * 6 = 42 as well; so both answers are 42.';
      const tokens = Array.from(fromFile.tokenizer.encode(text));
      const vocab = fromFile.config.vocabSize;
      const pplOurs = Math.exp(meanNll(await fromFile.logits(tokens), tokens, vocab));
      const pplTheirs = Math.exp(meanNll(await llamaCppLogits(theirs, tokens, vocab), tokens, vocab));
      expect(Math.abs(pplOurs / pplTheirs - 1)).toBeLessThanOrEqual(0.01);
    });
  });
});
