/**
 * Quantized weights through a whole model: quantize-on-load (NativeModelSpec.quantize, loadModel's
 * and loadPrm's `weights`) against the float model, against a checkpoint whose tensors were quantized
 * by quantizeRows beforehand, and the errors for malformed quantized tensors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../lib/errors.js';
import type { NativeModelSpec, NativeTensorSpec, QuantDTypeName } from '../../lib/native/addon-types.js';
import { nativeAddon } from '../../lib/native/load.js';
import { Model } from '../../lib/models/model.js';
import { loadPrm } from '../../lib/models/prm/prm.js';
import { dequantizeRows, quantizeRows, quantDTypeName, type QuantType } from '../../lib/models/quant/index.js';
import { fixtureDir, readReference } from '../models/prm-fixtures.js';
import { writeTinyModel, type TinyModel } from '../helpers/tiny-model.js';

const addon = nativeAddon();
const TOKENS = [1, 5, 9, 33, 200, 7, 8, 100, 42, 17, 250, 3];

async function logits(spec: NativeModelSpec, tokens: number[]): Promise<Float32Array> {
  const m = await addon.loadModel(spec);
  try {
    const s = m.createSequence(1);
    m.appendTokens(s, Int32Array.from(tokens));
    const out = await m.forward(Int32Array.of(s), 'all');
    m.release(s);
    return out;
  } finally {
    m.dispose();
  }
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Input width of each matrix the loader quantizes (the others are norms, kept as stored). */
function colsOf(tiny: TinyModel, name: string): number | undefined {
  if (name.endsWith('norm.weight') || name.endsWith('.bias')) return undefined;
  if (name.includes('down_proj')) return tiny.config.intermediate;
  if (name.includes('o_proj')) return tiny.config.heads * tiny.config.headDim;
  return tiny.config.hidden;
}

type Written = { spec: NativeModelSpec; cleanup: () => void };

/** The tiny model's checkpoint with every matrix ([rows, cols]) rewritten by `matrix` (norms stay F32). */
function writeRewritten(
  tiny: TinyModel,
  matrix: (values: Float32Array, rows: number, cols: number) => { bytes: Uint8Array; dtype: NativeTensorSpec['dtype'] },
): Written {
  const dir = mkdtempSync(path.join(tmpdir(), 'thinktree-quant-'));
  const file = path.join(dir, 'weights.bin');
  const blobs: Buffer[] = [];
  const tensors: NativeTensorSpec[] = [];
  let at = 0;
  for (const [name, values] of tiny.weights) {
    const cols = colsOf(tiny, name);
    const shape = tiny.spec.tensors.find((t) => t.name === name)!.shape;
    const { bytes, dtype } =
      cols === undefined
        ? { bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength), dtype: 'F32' as const }
        : matrix(values, values.length / cols, cols);
    tensors.push({ name, file: 0, dtype, shape, offset: at, byteLength: bytes.length });
    blobs.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    at += bytes.length;
  }
  writeFileSync(file, Buffer.concat(blobs));
  return { spec: { ...tiny.spec, files: [file], tensors }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every matrix quantized to `type` by quantizeRows: what a GGUF file of that type gives the runtime. */
function writePrequantized(tiny: TinyModel, type: QuantType): Written {
  return writeRewritten(tiny, (values, rows, cols) => ({ bytes: quantizeRows(type, values, rows, cols), dtype: quantDTypeName(type) }));
}

/**
 * Every matrix replaced by dequantize(quantize(w)) as F32: the weights a `type` model multiplies by, so
 * the two differ only by the GEMM's int8 rounding of activations.
 */
function writeRoundTripped(tiny: TinyModel, type: QuantType): Written {
  return writeRewritten(tiny, (values, rows, cols) => {
    const f = dequantizeRows(type, quantizeRows(type, values, rows, cols), rows, cols);
    return { bytes: new Uint8Array(f.buffer, f.byteOffset, f.byteLength), dtype: 'F32' };
  });
}

describe('quantize-on-load', () => {
  const tiny = writeTinyModel({ dtype: 'BF16', seed: 3 });
  // Every matrix width (256, 512) is whole Q4_K/Q6_K blocks, so no type falls back.
  const wide = writeTinyModel({ dtype: 'BF16', seed: 4, hidden: 256, intermediate: 512, heads: 4, kvHeads: 2, headDim: 64, layers: 1 });
  afterAll(() => {
    tiny.cleanup();
    wide.cleanup();
  });

  it('Q8_0 logits stay close to the float model, and greedy choices agree wherever the margin is clear', async () => {
    const V = tiny.config.vocab;
    const f = await logits(tiny.spec, TOKENS);
    const q = await logits({ ...tiny.spec, quantize: 'Q8_0' }, TOKENS);
    // Q8_0 rounds every weight, and the GEMM every activation, to 8 bits against the largest of its
    // 32-block: ≈0.4% RMS relative error each. Through 2 layers that moves these logits (max ≈ 4) by
    // ≈0.09 at most, measured; 5% of the largest logit leaves room for other seeds while a wiring
    // mistake (a wrong scale, a row read as another type) moves logits by their own size.
    const tol = 0.05 * maxAbs(f);
    expect(maxAbsDiff(f, q)).toBeLessThanOrEqual(tol);
    expect(maxAbsDiff(f, q)).toBeGreaterThan(0); // it did quantize
    // Argmax per position wherever the float model's top-2 margin exceeds twice the tolerance.
    let clear = 0;
    for (let r = 0; r < TOKENS.length; r++) {
      const row = f.subarray(r * V, (r + 1) * V);
      const sorted = Array.from(row).sort((a, b) => b - a);
      if (sorted[0]! - sorted[1]! <= 2 * tol) continue;
      clear++;
      const argmax = (a: Float32Array) => a.indexOf(Math.max(...a));
      expect(argmax(q.subarray(r * V, (r + 1) * V))).toBe(argmax(row));
    }
    expect(clear).toBeGreaterThan(0);
  });

  for (const type of ['q8_0', 'q4_0', 'q4_k', 'q6_k'] as const) {
    it(`${type}: equals loading tensors quantized by quantizeRows, bit for bit`, async () => {
      const pre = writePrequantized(wide, type);
      try {
        const onLoad = await logits({ ...wide.spec, quantize: quantDTypeName(type) }, TOKENS);
        const fromFile = await logits(pre.spec, TOKENS);
        expect(Buffer.from(onLoad.buffer).equals(Buffer.from(fromFile.buffer))).toBe(true);
        // And both are the quantized model, not the float one.
        expect(maxAbsDiff(onLoad, await logits(wide.spec, TOKENS))).toBeGreaterThan(0);
      } finally {
        pre.cleanup();
      }
    });
  }

  // Under a tied LM head the embedding is packed for the head's GEMM (on every ISA but scalar) and
  // token lookups decode their rows out of the packed groups: a lookup that decoded the wrong bytes
  // would feed the layers another row, which moves logits by their own size.
  for (const type of ['q4_k', 'q6_k'] as const) {
    it(`${type}, tied LM head: equals the float model on the round-tripped weights up to activation rounding`, async () => {
      const tied = writeTinyModel({ dtype: 'BF16', seed: 5, hidden: 256, intermediate: 512, heads: 4, kvHeads: 2, headDim: 64, layers: 1, tieWordEmbeddings: true });
      const round = writeRoundTripped(tied, type);
      try {
        const want = await logits(round.spec, TOKENS);
        const got = await logits({ ...tied.spec, quantize: quantDTypeName(type) }, TOKENS);
        // One layer, hidden 256: int8 activations (half a step of max|x|/127 per element) move these
        // logits by 3.7% (Q4_K) and 2.8% (Q6_K) of the largest, measured, in the K-quants' blocks of
        // 256 (one step for a whole row here, as llama.cpp's Q8_K; blocks of 32 had moved them under
        // 1%); 8% leaves room for other seeds. A lookup of the wrong row would move them by their own size.
        expect(maxAbsDiff(want, got)).toBeLessThanOrEqual(0.08 * maxAbs(want));
        expect(maxAbsDiff(want, got)).toBeGreaterThan(0);
      } finally {
        round.cleanup();
        tied.cleanup();
      }
    });
  }

  it('reports the quantized bytes as the weights it reads', async () => {
    const m = await addon.loadModel({ ...wide.spec, quantize: 'Q8_0' });
    const f = await addon.loadModel(wide.spec);
    try {
      const matrices = [...wide.weights].filter(([n]) => colsOf(wide, n) !== undefined).reduce((s, [, w]) => s + w.length, 0);
      const norms = [...wide.weights].filter(([n]) => colsOf(wide, n) === undefined).reduce((s, [, w]) => s + w.length, 0);
      expect(f.info().weightBytes).toBe(2 * (matrices + norms));
      expect(m.info().weightBytes).toBe((matrices / 32) * 34 + 2 * norms);
    } finally {
      m.dispose();
      f.dispose();
    }
  });

  // The GEMM calls of a one-row decode step, as `thinktree bench` replays their reads: per layer q/k/v,
  // o, gate/up and down (q/k/v and gate/up as one call each where the weights are packed), then the
  // tied LM head; under a tied head the list is every byte the model reads but its norms.
  it('lists the bytes each GEMM call of a decode step reads', async () => {
    const tied = writeTinyModel({ dtype: 'BF16', seed: 7, hidden: 256, intermediate: 512, heads: 4, kvHeads: 2, headDim: 64, layers: 2, tieWordEmbeddings: true });
    const [E, I, Q, KV, V] = [256, 512, 4 * 64, 2 * 64, 256];
    const norms = 2 * (2 * E * 2 + E); // two norms a layer and the final one, BF16
    try {
      // BF16 at precision f32 is never packed: one call per matrix on every host.
      const f = await addon.loadModel({ ...tied.spec, precision: 'f32' });
      try {
        const b = (rows: number, cols: number) => rows * cols * 2;
        const layer = [b(Q, E), b(KV, E), b(KV, E), b(E, Q), b(I, E), b(I, E), b(E, I)];
        expect(f.info().stepGemmBytes).toEqual([...layer, ...layer, b(V, E)]);
        expect(f.info().stepGemmBytes!.reduce((x, y) => x + y, 0)).toBe(f.info().weightBytes - norms);
      } finally {
        f.dispose();
      }
      // Q8_0 (packed bytes equal ggml's): packed, hence fused, wherever a packed kernel runs (every ISA
      // but scalar: AVX2's or AVX-512 VNNI's).
      const m = await addon.loadModel({ ...tied.spec, quantize: 'Q8_0' });
      try {
        const info = m.info();
        const packed = info.isa !== 'scalar' && process.env.THINKTREE_QUANT_PACK !== '0';
        const q = (rows: number, cols: number) => rows * (cols / 32) * 34;
        const layer = packed
          ? [q(Q + 2 * KV, E), q(E, Q), q(2 * I, E), q(E, I)]
          : [q(Q, E), q(KV, E), q(KV, E), q(E, Q), q(I, E), q(I, E), q(E, I)];
        expect(info.stepGemmBytes).toEqual([...layer, ...layer, q(V, E)]);
        expect(info.stepGemmBytes!.reduce((x, y) => x + y, 0)).toBe(info.weightBytes - norms);
      } finally {
        m.dispose();
      }
    } finally {
      tied.cleanup();
    }
  });

  it('rejects malformed quantized tensors and unknown types with errors naming them', async () => {
    const pre = writePrequantized(wide, 'q8_0');
    // The spec is parsed on the JS thread: a bad one throws before any promise exists.
    const load = async (spec: NativeModelSpec) => addon.loadModel(spec);
    try {
      const bad = (patch: Partial<NativeTensorSpec>, i = 1): NativeModelSpec => ({
        ...pre.spec,
        tensors: pre.spec.tensors.map((t, j) => (j === i ? { ...t, ...patch } : t)),
      });
      const q = pre.spec.tensors.findIndex((t) => t.dtype === 'Q8_0');
      const name = pre.spec.tensors[q]!.name;
      await expect(load(bad({ byteLength: pre.spec.tensors[q]!.byteLength - 34 }, q))).rejects.toThrow(
        new RegExp(`byteLength\` of Q8_0 tensor ${name.replaceAll('.', '\\.')} is \\d+, expected rows × \\(cols / 32\\) × 34 bytes`),
      );
      await expect(load(bad({ shape: [256 * 256] }, q))).rejects.toThrow(/must have 2 dimensions, got 1/);
      await expect(load(bad({ shape: [512, 128], dtype: 'Q4_K' as QuantDTypeName }, q))).rejects.toThrow(
        /Q4_K tensor .* has rows of 128 elements, not a positive multiple of the block size 256/,
      );
      const norm = pre.spec.tensors.findIndex((t) => t.name.endsWith('input_layernorm.weight'));
      await expect(load(bad({ dtype: 'Q8_0', shape: [1, 256], byteLength: 272 }, norm))).rejects.toThrow(
        /input_layernorm\.weight is Q8_0; norms and biases must be F32, F16 or BF16/,
      );
      await expect(load({ ...wide.spec, quantize: 'Q5_K' as QuantDTypeName })).rejects.toThrow(
        /Expected `spec.quantize` to be 'Q8_0', 'Q4_0', 'Q4_K' or 'Q6_K', got 'Q5_K'/,
      );
    } finally {
      pre.cleanup();
    }
  });
});

describe('loadModel / loadPrm with weights', () => {
  const POLICY = path.join(path.dirname(fixtureDir('qwen2-prm')), '..', 'tiny', 'qwen2-bf16');

  it('loadModel quantizes on load and refuses an unknown type listing the allowed ones', async () => {
    await expect(Model.load(POLICY, { weights: 'q5_k' as QuantType })).rejects.toThrow(OptionError);
    await expect(Model.load(POLICY, { weights: 'q5_k' as QuantType })).rejects.toThrow(
      /Expected `weights` to be one of 'q8_0', 'q6_k', 'q4_k', 'q4_0', got "q5_k"/,
    );
    const base = await Model.load(POLICY, { device: 'cpu', precision: 'f32', threads: 2 });
    const q8 = await Model.load(POLICY, { device: 'cpu', precision: 'f32', threads: 2, weights: 'q8_0' });
    try {
      // 64-wide matrices: every one is Q8_0 (34 bytes per 32 weights instead of 64).
      expect(q8.info.weightBytes).toBeLessThan(0.6 * base.info.weightBytes);
      const ids = [11, 48, 85, 122, 159, 196];
      const a = await base.logits(ids);
      const b = await q8.logits(ids);
      // This random fixture amplifies small input changes (rounding activations to bf16 alone moves
      // its logits by up to 0.6); Q8_0's rounding of weights and activations moves them by ~1 of ~20.
      expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(0.25 * maxAbs(a));
    } finally {
      base.dispose();
      q8.dispose();
    }
  });

  it('loadPrm with q8_0 keeps the two-class head in its precision and rewards close to the float PRM', async () => {
    const opts = { format: 'qwen2.5-math-prm', device: 'cpu', precision: 'f32', threads: 2, kvCacheBytes: 8 << 20, pageTokens: 8 } as const;
    const f = await loadPrm(fixtureDir('qwen2-prm'), opts);
    const q = await loadPrm(fixtureDir('qwen2-prm'), { ...opts, weights: 'q8_0' });
    try {
      // The body's matrices become Q8_0 (34 bytes per 32); norms, biases and score.* (the head) stay F32.
      const file = readFileSync(path.join(fixtureDir('qwen2-prm'), 'model.safetensors'));
      const header = JSON.parse(file.subarray(8, 8 + Number(file.readBigUInt64LE(0))).toString('utf8')) as Record<string, { shape: number[] }>;
      let expected = f.info.weightBytes;
      for (const [name, t] of Object.entries(header)) {
        if (!/^model\.(embed_tokens|layers\.\d+\.(self_attn|mlp)\.\w+_proj)\.weight$/.test(name)) continue;
        const n = t.shape[0]! * t.shape[1]!;
        expected += (n / 32) * 34 - 4 * n;
      }
      expect(q.info.weightBytes).toBe(expected);
      let worst = 0;
      for (const c of readReference('qwen2-prm').ids) {
        const a = await f.scoreIds(c.ids, c.positions);
        const b = await q.scoreIds(c.ids, c.positions);
        worst = Math.max(worst, maxAbsDiff(a, b));
      }
      // Rewards are probabilities: Q8_0 moves them by a few hundredths at most on this fixture.
      expect(worst).toBeGreaterThan(0);
      expect(worst).toBeLessThanOrEqual(0.05);
    } finally {
      f.dispose();
      q.dispose();
    }
  });
});
