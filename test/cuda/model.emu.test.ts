// Whole-model execution on the CUDA device path, run through the CPU emulator build of the CUDA
// library (native/cuda/emu, `npm run build:cuda-emu`): the same .cu kernels and the same CudaExecutor
// as on a GPU, slowly, on this machine. Skips, naming the build command, when the emulator library
// has not been built.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadModel } from '../../lib/models/model.js';
import { dequantizedModel } from '../helpers/dequantized-model.js';
import { TINY_DIR } from '../helpers/reference-fixtures.js';
import { referenceLogits } from '../helpers/reference-llama.js';
import { ROOT } from './gpu.js';
import { deviceModelSuite } from './model-cases.js';

const EMU_LIB = path.join(ROOT, 'build-cuda-emu', 'libthinktree_cuda_emu.so');

if (existsSync(EMU_LIB)) {
  // chooseDevice tries THINKTREE_CUDA_LIB first: every 'cuda' model of this file runs on the emulator.
  const before = process.env.THINKTREE_CUDA_LIB;
  process.env.THINKTREE_CUDA_LIB = EMU_LIB;
  afterAll(() => {
    if (before === undefined) delete process.env.THINKTREE_CUDA_LIB;
    else process.env.THINKTREE_CUDA_LIB = before;
  });
  deviceModelSuite('whole model on the emulated CUDA device vs the CPU backend');

  describe('quantized weights on the device', () => {
    it('q8_0 quantize-on-load computes the dequantized model for an 8-token prompt (the f32 GEMM on the decoded weights)', async () => {
      // The device decodes each weight from its block while staging it and multiplies in f32, so it
      // computes the model the blocks hold: the f64 reference on the decoded weights, to f32 noise.
      // (The CPU is no yardstick here: on a VNNI host it rounds the activations to int8 at every row
      // count, packed_weights.h.) The embedding is decoded the same way.
      const dir = path.join(TINY_DIR, 'qwen2-bf16');
      const opts = { precision: 'f32', threads: 1, kvCacheBytes: 4 << 20, weights: 'q8_0' } as const;
      const gpu = await loadModel(dir, { ...opts, device: 'cuda' });
      try {
        expect(gpu.info.device).toBe('cuda');
        // 8 tokens: within the fixture's sliding window of 8, which the reference does not model.
        const tokens = [11, 48, 85, 122, 159, 196, 233, 270];
        const model = await dequantizedModel(dir, 'q8_0');
        const want = referenceLogits(model, tokens);
        const got = await gpu.logits(tokens);
        const vocab = model.config.vocab;
        let err = 0;
        want.forEach((row, t) => {
          for (let i = 0; i < vocab; i++) err = Math.max(err, Math.abs(got[t * vocab + i]! - row[i]!));
        });
        expect(err).toBeLessThanOrEqual(2e-3);
        // And the quantized model is not the float one.
        const float = await loadModel(dir, { ...opts, weights: undefined, device: 'cpu' });
        const f = await float.logits(tokens);
        float.dispose();
        let moved = 0;
        for (let i = 0; i < f.length; i++) moved = Math.max(moved, Math.abs(f[i]! - got[i]!));
        expect(moved).toBeGreaterThan(10 * err);
      } finally {
        gpu.dispose();
      }
    });
  });

  describe('device memory check', () => {
    const dir = path.join(TINY_DIR, 'llama-f32');
    afterEach(() => {
      delete process.env.THINKTREE_CUDA_EMU_MEMORY_BYTES;
    });

    it('refuses a model that does not fit, naming the numbers and the fixes', async () => {
      process.env.THINKTREE_CUDA_EMU_MEMORY_BYTES = String(4 << 20);
      const load = loadModel(dir, { device: 'cuda', precision: 'f32', threads: 1, kvCacheBytes: 16 << 20 });
      await expect(load).rejects.toThrow(
        /^the model does not fit on thinktree CUDA emulator \(CPU\): it needs [\d.]+ GiB \(weights [\d.]+ MiB, KV cache 16\.0 MiB, workspace [\d.]+ MiB\) but the GPU has 0\.00 GiB free of 0\.00 GiB; lower kvCacheBytes to at most \d+ \([\d.]+ MiB\), or load it with device 'cpu'$/,
      );
    });

    /** On a 4 MiB device: the largest kvCacheBytes the memory error suggests, and the model loaded with it. */
    async function loadWithSuggestedBudget() {
      process.env.THINKTREE_CUDA_EMU_MEMORY_BYTES = String(4 << 20);
      const err = await loadModel(dir, { device: 'cuda', precision: 'f32', threads: 1, kvCacheBytes: 16 << 20 }).catch((e: Error) => e);
      const suggested = Number(/at most (\d+)/.exec((err as Error).message)![1]);
      return { suggested, model: await loadModel(dir, { device: 'cuda', precision: 'f32', threads: 1, kvCacheBytes: suggested }) };
    }

    it('loads with the kvCacheBytes the error suggests', async () => {
      const { suggested, model } = await loadWithSuggestedBudget();
      try {
        expect(model.info.device).toBe('cuda');
        expect(model.info.pagesTotal * model.info.bytesPerPage).toBeLessThanOrEqual(suggested);
        expect((await model.logits([1, 2, 3])).length).toBe(3 * model.config.vocabSize);
      } finally {
        model.dispose();
      }
    });

    it('turns a later device allocation failure into an error and keeps the model usable', async () => {
      // The fixture's context (256 positions) is shorter than the 1000-token input below: a copy with a
      // longer context, so the call gets as far as the device allocation.
      const long4k = mkdtempSync(path.join(tmpdir(), 'thinktree-emu-'));
      cpSync(dir, long4k, { recursive: true });
      const configFile = path.join(long4k, 'config.json');
      writeFileSync(configFile, JSON.stringify({ ...JSON.parse(readFileSync(configFile, 'utf8')), max_position_embeddings: 4096 }));
      process.env.THINKTREE_CUDA_EMU_MEMORY_BYTES = String(4 << 20);
      const err = await loadModel(long4k, { device: 'cuda', precision: 'f32', threads: 1, kvCacheBytes: 16 << 20 }).catch((e: Error) => e);
      const suggested = Number(/at most (\d+)/.exec((err as Error).message)![1]);
      const model = await loadModel(long4k, { device: 'cuda', precision: 'f32', threads: 1, kvCacheBytes: suggested });
      try {
        // 1000 rows of logits (1.2 MiB) need a bigger head-output buffer than the device has left
        const long = Array.from({ length: 1000 }, (_, i) => (i * 37) % 300);
        await expect(model.logits(long)).rejects.toThrow(/^out of GPU memory: the GPU has .* free .*use device 'cpu'/);
        expect((await model.logits([1, 2, 3])).length).toBe(3 * model.config.vocabSize);
        expect(model.kvStats().pagesFree).toBe(model.kvStats().pagesTotal);
      } finally {
        model.dispose();
        rmSync(long4k, { recursive: true, force: true });
      }
    });
  });
} else {
  it.skip(`CUDA emulator model tests skipped: ${EMU_LIB} is not built (npm run build:cuda-emu)`, () => {});
}
