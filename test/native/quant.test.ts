/**
 * Block quantization (Q8_0, Q4_0, Q4_K, Q6_K): the addon's quantize/dequantize against ggml's
 * definitions written independently in TypeScript (test/helpers/quant-reference.ts), and the GEMM on
 * quantized weights against an f64 GEMM on the dequantized weights, on every ISA this host has.
 */
import { describe, expect, it } from 'vitest';
import type { IsaName } from '../../lib/native/addon-types.js';
import { nativeKernels } from '../../lib/native/kernels.js';
import { dequantizeRows, quantizeRows, quantizedBytes, type QuantType } from '../../lib/models/quant/index.js';
import { BLOCK, decodeRows, f16ToF32, f32ToF16, quantizeReference } from '../helpers/quant-reference.js';
import { rng } from '../helpers/tiny-model.js';

const kernels = nativeKernels();
const cpu = kernels.cpuInfo();
const TYPES: QuantType[] = ['q8_0', 'q4_0', 'q4_k', 'q6_k'];

/** Roughly Gaussian values (sum of uniforms) with a few outliers, like trained weights. */
function weights(n: number, seed: number, scale = 0.05): Float32Array {
  const next = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const g = (next() + next() + next() + next() - 2) * 1.7;
    a[i] = (next() < 0.01 ? 6 * g : g) * scale;
  }
  return a;
}

function rmsError(a: Float32Array, b: Float32Array): number {
  let e = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    e += (a[i]! - b[i]!) ** 2;
    s += a[i]! ** 2;
  }
  return Math.sqrt(e / s);
}

describe('f16 reference helper', () => {
  it('rounds to the nearest half, ties to even', () => {
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00);
    expect(f16ToF32(f32ToF16(1 + 2 ** -11))).toBe(1); // tie → even mantissa
    expect(f16ToF32(f32ToF16(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(f32ToF16(2 ** -24)).toBe(1);
    expect(f32ToF16(2 ** -25)).toBe(0); // tie with 0 → even
  });
});

describe('quantizeRows / dequantizeRows', () => {
  const rows = 3;
  const cols = 512;
  const x = weights(rows * cols, 7);

  for (const type of ['q8_0', 'q4_0'] as const) {
    it(`${type} equals ggml's reference quantizer byte for byte`, () => {
      const got = quantizeRows(type, x, rows, cols);
      expect(got.length).toBe(quantizedBytes(type, rows, cols));
      const want = new Uint8Array(got.length);
      const rowBytes = (cols / 32) * BLOCK[type].bytes;
      for (let r = 0; r < rows; r++) want.set(quantizeReference(type, x.subarray(r * cols, (r + 1) * cols)), r * rowBytes);
      expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
    });
  }

  for (const type of TYPES) {
    it(`${type}: dequantize decodes by ggml's definition, bit for bit`, () => {
      const bytes = quantizeRows(type, x, rows, cols);
      expect(dequantizeRows(type, bytes, rows, cols)).toEqual(decodeRows(type, bytes, rows, cols));
      // Arbitrary bytes too (every scale, min and quant pattern), not only what our quantizer writes;
      // f16 scales are kept finite so the comparison is of numbers.
      const next = rng(11);
      const noise = Uint8Array.from({ length: bytes.length }, () => Math.floor(next() * 256));
      const bb = BLOCK[type].bytes;
      const scaleAt = type === 'q6_k' ? [208] : type === 'q4_k' ? [0, 2] : [0];
      for (let b = 0; b < noise.length; b += bb) for (const s of scaleAt) noise[b + s + 1] &= 0x3b;
      expect(dequantizeRows(type, noise, rows, cols)).toEqual(decodeRows(type, noise, rows, cols));
    });
  }

  it('round trips within each type\'s resolution, and the K-quant scale search beats the plain grid', () => {
    const err: Record<string, number> = {};
    for (const type of TYPES) err[type] = rmsError(x, dequantizeRows(type, quantizeRows(type, x, rows, cols), rows, cols));
    // Relative RMS error: 8 bits ≈ 0.4%, 6 bits ≈ 2%, 4 bits ≈ 8–12% on this heavy-tailed data.
    expect(err.q8_0).toBeLessThan(0.01);
    expect(err.q6_k).toBeLessThan(0.03);
    expect(err.q4_k).toBeLessThan(0.12);
    expect(err.q4_0).toBeLessThan(0.16);
    expect(err.q8_0).toBeLessThan(err.q6_k!);
    expect(err.q6_k).toBeLessThan(err.q4_k!);
    expect(err.q4_k).toBeLessThan(err.q4_0!);
    // Q8_0's error per element is at most half a step, d/2 with d = max|x|/127 of its block.
    const q8 = dequantizeRows('q8_0', quantizeRows('q8_0', x, rows, cols), rows, cols);
    for (let b = 0; b < x.length / 32; b++) {
      let amax = 0;
      for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[32 * b + i]!));
      const d = f16ToF32(f32ToF16(amax / 127));
      for (let i = 0; i < 32; i++) expect(Math.abs(q8[32 * b + i]! - x[32 * b + i]!)).toBeLessThanOrEqual(d * 0.5 + amax * 1e-3);
    }
  });

  it('quantizes a zero block to zeros and keeps constant rows exact enough', () => {
    for (const type of TYPES) {
      const zeros = new Float32Array(256);
      expect(dequantizeRows(type, quantizeRows(type, zeros, 1, 256), 1, 256).every((v) => v === 0)).toBe(true);
    }
  });

  it('rejects bad arguments with errors naming them', () => {
    expect(() => quantizeRows('q5_1' as QuantType, x, rows, cols)).toThrow(/`type`.*'q8_0', 'q6_k', 'q4_k', 'q4_0'.*"q5_1"/);
    expect(() => quantizeRows('q4_k', new Float32Array(3 * 96), 3, 96)).toThrow(/`cols` to be a multiple of 256 .*Q4_K.*got 96/);
    expect(() => quantizeRows('q8_0', x, rows, cols + 32)).toThrow(/`data` to have rows × cols = 1632 elements, got 1536/);
    expect(() => quantizeRows('q8_0', x, -1, cols)).toThrow(/`rows`/);
    expect(() => quantizeRows('q8_0', x, 1.5, cols)).toThrow(/`rows`/);
    expect(() => dequantizeRows('q8_0', new Uint8Array(33), 1, 32)).toThrow(/`bytes` to have rows × 34 bytes = 34 .*got 33/);
    expect(() => quantizeRows('q8_0', [1, 2] as unknown as Float32Array, 1, 32)).toThrow(/`data` to be a Float32Array/);
  });
});

// --- GEMM on quantized weights ----------------------------------------------------------------

const ISAS: { isa: IsaName; supported: boolean }[] = [
  { isa: 'scalar', supported: true },
  { isa: 'avx2', supported: cpu.avx2 },
  { isa: 'avx512', supported: cpu.avx512 },
  { isa: 'avx512bf16', supported: cpu.avx512bf16 },
];

/** The activation block x is quantized in for weights of `type`: 256 for Q4_K and Q6_K (ggml's Q8_K), else 32. */
const actBlock = (type: QuantType): 32 | 256 => (type === 'q4_k' || type === 'q6_k' ? 256 : 32);

/**
 * y = x · ŵᵀ + bias in f64 on the decoded weights ŵ, and the bound the quantized GEMM must meet
 * (below 8 rows; from 8 rows up the kernel multiplies f32 x by the exactly decoded ŵ, well inside it):
 * the kernel quantizes each block of x (`block` values: 32, or 256 for Q4_K) to int8 with
 * d = max|x_block| / 127, which moves each element by at most d/2, so |Δy| ≤ Σ_blocks d/2 · Σ_block |ŵ|;
 * the block scaling and the f32 sums add rounding of order 2^-24 relative to Σ|x·ŵ| per term
 * (1e-5 · Σ|x·ŵ| covers k ≤ 4096 easily).
 *
 * yq is the same GEMM on x as the kernel quantizes it (q · d per element, computed here: round half
 * away from zero of x / d), so a kernel must equal it up to the f32 rounding of its scaling and sums.
 */
function reference(x: Float32Array, w: Float32Array, bias: Float32Array, m: number, n: number, k: number, block: 32 | 256 = 32) {
  const y = new Float64Array(m * n);
  const yq = new Float64Array(m * n);
  const bound = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const dx: number[] = [];
    const xq = new Float64Array(k);
    for (let b = 0; b < k / block; b++) {
      let amax = 0;
      for (let t = 0; t < block; t++) amax = Math.max(amax, Math.abs(x[i * k + block * b + t]!));
      const d = Math.fround(amax / 127);
      const id = d !== 0 ? Math.fround(1 / d) : 0;
      dx.push(d);
      for (let t = block * b; t < block * b + block; t++) {
        const v = Math.fround(x[i * k + t]! * id);
        xq[t] = (v < 0 ? -Math.round(-v) : Math.round(v)) * d;
      }
    }
    for (let j = 0; j < n; j++) {
      let s = 0;
      let sq = 0;
      let mag = 0;
      let q = 0;
      for (let b = 0; b < k / block; b++) {
        let wabs = 0;
        for (let t = block * b; t < block * (b + 1); t++) {
          const p = x[i * k + t]! * w[j * k + t]!;
          s += p;
          sq += xq[t]! * w[j * k + t]!;
          mag += Math.abs(p);
          wabs += Math.abs(w[j * k + t]!);
        }
        q += (dx[b]! / 2) * wabs;
      }
      y[i * n + j] = s + bias[j]!;
      yq[i * n + j] = sq + bias[j]!;
      bound[i * n + j] = q * (1 + 1e-4) + 1e-5 * (mag + Math.abs(bias[j]!)) + 1e-30;
      magnitude[i * n + j] = mag + Math.abs(bias[j]!);
    }
  }
  return { y, yq, bound, magnitude };
}

/** An n × k matrix of `type` from seed `seed`, its exact decoding (the TypeScript decoder), and a bias. */
function quantizedCase(type: QuantType, n: number, k: number, seed: number, biasSeed: number) {
  const bytes = quantizeRows(type, weights(n * k, seed, 0.1), n, k);
  return { bytes, decoded: dequantizeRows(type, bytes, n, k), bias: weights(n, biasSeed, 1) };
}

describe('gemm on quantized weights', () => {
  const k = 512;
  const n = 29;
  for (const type of TYPES) {
    const { bytes, decoded, bias } = quantizedCase(type, n, k, 3, 5);
    for (const m of [1, 3, 4, 7, 8, 9, 16]) {
      const x = weights(m * k, 100 + m, 1);
      const ref = reference(x, decoded, bias, m, n, k, actBlock(type));
      for (const precision of ['f32', 'bf16'] as const) {
        const args = { x, w: bytes, wDtype: type.toUpperCase() as 'Q8_0', bias, m, n, k, precision };
        const scalar = kernels.gemm({ ...args, isa: 'scalar', threads: 1 });
        // Below 8 rows: int8 activations (the bound above). From 8 rows: W decoded exactly and
        // multiplied in f32 (f32 summation only), or with X and decoded W both rounded to bf16
        // (2^-9 relative each, so 2^-8 of Σ|x·ŵ| at most, plus the sums).
        const bound = (i: number) =>
          m < 8 ? ref.bound[i]! : precision === 'f32' ? 2e-5 * ref.magnitude[i]! : (2 ** -8 + 2e-5) * ref.magnitude[i]!;
        for (const { isa, supported } of ISAS) {
          it.skipIf(!supported)(`${type}, m=${m}, ${precision}, ${isa}: within the bound of the f64 GEMM on the dequantized weights`, () => {
            for (const threads of [1, 3]) {
              const y = kernels.gemm({ ...args, isa, threads });
              let worst = 0;
              for (let i = 0; i < y.length; i++) {
                worst = Math.max(worst, Math.abs(y[i]! - ref.y[i]!) / bound(i));
                // The same integers per block (or the same decoded weights) as the scalar variant:
                // only the order of the f32 sums differs.
                expect(Math.abs(y[i]! - scalar[i]!)).toBeLessThanOrEqual(2e-5 * ref.magnitude[i]!);
                // Below 8 rows: exactly the GEMM on x quantized in blocks of actBlock(type).
                if (m < 8) expect(Math.abs(y[i]! - ref.yq[i]!)).toBeLessThanOrEqual(2e-5 * ref.magnitude[i]!);
              }
              expect(worst).toBeLessThanOrEqual(1);
            }
          });
        }
      }
    }
  }

  it('rejects k that is not whole blocks and weights of the wrong size', () => {
    const x = new Float32Array(2 * 96);
    expect(() => kernels.gemm({ x, w: new Uint8Array(96 * 2), wDtype: 'Q4_K', m: 2, n: 1, k: 96, precision: 'f32', isa: 'scalar', threads: 1 })).toThrow(
      /`k` to be a multiple of 256 for Q4_K weights, got 96/,
    );
    expect(() => kernels.gemm({ x, w: new Uint8Array(10), wDtype: 'Q8_0', m: 2, n: 1, k: 96, precision: 'f32', isa: 'scalar', threads: 1 })).toThrow(
      /`w` to have n × 102 bytes = 102, got 10/,
    );
  });
});

// --- Packed weights (packed_weights.h): the kernels a CPU model runs on Q8_0 / Q4_0 / Q4_K / Q6_K ----
// isa 'avx2' runs the AVX2 kernel (vpmaddubsw) on every host with AVX2, 'avx512' and 'avx512bf16' the
// VNNI one (vpdpbusd) where the CPU has AVX512_VNNI.

const PACKED_ISAS: IsaName[] = [
  ...(cpu.avx2 ? (['avx2'] as const) : []),
  ...(cpu.avx512vnni ? (['avx512'] as const) : []),
  ...(cpu.avx512vnni && cpu.avx512bf16 ? (['avx512bf16'] as const) : []),
];

describe.skipIf(PACKED_ISAS.length === 0)(`gemm on packed weights (${PACKED_ISAS.join(', ')})`, () => {
  const k = 768;
  // Six full groups of 16 and a padded one of 13: at one or two rows a tile of 4 groups read side by
  // side, then single groups (and the padded one, whose second half of 8 columns holds 5).
  const n = 109;
  for (const type of ['q8_0', 'q4_0', 'q4_k', 'q6_k'] as const) {
    const { bytes, decoded, bias } = quantizedCase(type, n, k, 21, 23);
    // 1..7 and 9 rows take the remainder tiles, 8 and 16 whole tiles (8 rows on VNNI, 4 on AVX2), 70
    // two row tiles of 64.
    for (const m of [1, 2, 5, 8, 9, 16, 70]) {
      const x = weights(m * k, 200 + m, 1);
      const ref = reference(x, decoded, bias, m, n, k, actBlock(type));
      for (const isa of PACKED_ISAS) {
        it(`${type}, m=${m}, ${isa}: int8 activations at every row count, each row as if alone`, () => {
          const args = { x, w: bytes, wDtype: type.toUpperCase() as 'Q8_0', bias, m, n, k, precision: 'bf16' as const, isa };
          for (const threads of [1, 3]) {
            const y = kernels.gemm({ ...args, packed: true, threads });
            let worst = 0;
            for (let i = 0; i < y.length; i++) {
              worst = Math.max(worst, Math.abs(y[i]! - ref.y[i]!) / ref.bound[i]!);
              // Exactly the GEMM on x quantized in blocks of actBlock(type), up to f32 rounding.
              expect(Math.abs(y[i]! - ref.yq[i]!)).toBeLessThanOrEqual(2e-5 * ref.magnitude[i]!);
            }
            expect(worst).toBeLessThanOrEqual(1);
            // Every row sees the same f32 operations whatever the batch: equal to itself alone.
            for (const i of [0, m - 1]) {
              const alone = kernels.gemm({ ...args, x: x.slice(i * k, (i + 1) * k), m: 1, packed: true, threads });
              expect(Array.from(y.subarray(i * n, (i + 1) * n))).toEqual(Array.from(alone));
            }
          }
          // The same integers per block as the row-at-a-time kernel: only the f32 order differs.
          if (m < 8) {
            const rows = kernels.gemm({ ...args, threads: 1 });
            const y = kernels.gemm({ ...args, packed: true, threads: 1 });
            for (let i = 0; i < y.length; i++) expect(Math.abs(y[i]! - rows[i]!)).toBeLessThanOrEqual(2e-5 * ref.magnitude[i]!);
          }
        });
      }
    }
  }

  // 25 blocks of 32 per row: the last Q8_0 / Q4_0 block is alone in its unit (its scales, 32 bytes of
  // zeros, its weights: packed_weights.h), where every other block shares one with its neighbour.
  for (const type of ['q8_0', 'q4_0'] as const) {
    const odd = 800;
    const { bytes, decoded, bias } = quantizedCase(type, n, odd, 31, 37);
    for (const m of [1, 5]) {
      const x = weights(m * odd, 300 + m, 1);
      const ref = reference(x, decoded, bias, m, n, odd);
      for (const isa of PACKED_ISAS) {
        it(`${type}, k=${odd} (an odd number of blocks), m=${m}, ${isa}`, () => {
          const y = kernels.gemm({ x, w: bytes, wDtype: type.toUpperCase() as 'Q8_0', bias, m, n, k: odd, precision: 'bf16', isa, packed: true, threads: 1 });
          let worst = 0;
          for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i]! - ref.y[i]!) / ref.bound[i]!);
          expect(worst).toBeLessThanOrEqual(1);
        });
      }
    }
  }

  it('refuses packing a type without a packed layout', () => {
    const x = new Float32Array(256);
    expect(() =>
      kernels.gemm({ x, w: new Uint16Array(256), wDtype: 'F16', m: 1, n: 1, k: 256, precision: 'f32', isa: PACKED_ISAS[0]!, threads: 1, packed: true }),
    ).toThrow(/`packed` weights to be Q8_0, Q4_0, Q4_K, Q6_K or BF16, got F16/);
  });
});
