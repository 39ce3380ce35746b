import { describe, expect, it } from 'vitest';
import type { DTypeName } from '../../lib/native/addon-types.js';
import type { RmsNormArgs, RopeArgs } from '../../lib/native/kernel-types.js';
import { nativeKernels } from '../../lib/native/kernels.js';
import { rng } from '../helpers/tiny-model.js';

const kernels = nativeKernels();

function randomF32(n: number, next: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (next() * 2 - 1) * scale;
  return a;
}

const scratchU32 = new Uint32Array(1);
const scratchF32 = new Float32Array(scratchU32.buffer);

function bf16ToF32(bits: number): number {
  scratchU32[0] = (bits << 16) >>> 0;
  return scratchF32[0];
}

function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return sign * f * 2 ** -24;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

/** Near-1 weights (|w - 1| < 0.5) in each storage format, with their decoded values. */
function normWeights(dtype: DTypeName, dim: number, next: () => number): { weight: Float32Array | Uint16Array; values: number[] } {
  if (dtype === 'F32') {
    const weight = Float32Array.from({ length: dim }, () => 0.5 + next());
    return { weight, values: Array.from(weight) };
  }
  const weight = new Uint16Array(dim);
  for (let i = 0; i < dim; i++) {
    if (dtype === 'BF16') {
      scratchF32[0] = 0.5 + next();
      weight[i] = scratchU32[0] >>> 16;
    } else {
      weight[i] = (14 << 10) | Math.floor(next() * 1024); // [0.5, 1)
    }
  }
  const decode = dtype === 'BF16' ? bf16ToF32 : f16ToF32;
  return { weight, values: Array.from(weight, decode) };
}

function expectClose(got: Float32Array, want: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(got).toHaveLength(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = atol + rtol * Math.abs(want[i]);
    if (!(Math.abs(got[i] - want[i]) <= tol)) expect(got[i], `${what}: element ${i}`).toBeCloseTo(want[i], 12);
  }
}

describe('rmsNorm', () => {
  const shapes = [
    { rows: 1, dim: 1 },
    { rows: 3, dim: 7 },
    { rows: 5, dim: 130 },
    { rows: 2, dim: 896 },
  ];
  for (const wDtype of ['F32', 'F16', 'BF16'] as DTypeName[]) {
    it(`matches x / sqrt(mean(x²) + eps) · weight for ${wDtype} weights`, () => {
      const next = rng(7);
      for (const { rows, dim } of shapes) {
        const x = randomF32(rows * dim, next, 3);
        const { weight, values } = normWeights(wDtype, dim, next);
        const eps = 1e-6;
        const want: number[] = [];
        for (let r = 0; r < rows; r++) {
          let ss = 0;
          for (let i = 0; i < dim; i++) ss += x[r * dim + i] ** 2;
          const inv = 1 / Math.sqrt(ss / dim + eps);
          for (let i = 0; i < dim; i++) want.push(x[r * dim + i] * inv * values[i]);
        }
        const y = kernels.rmsNorm({ x, weight, wDtype, rows, dim, eps });
        expectClose(y, want, 1e-6, 1e-7, `rows=${rows} dim=${dim}`);
      }
    });
  }

  it('lets eps dominate when the row is all zeros (no division by zero)', () => {
    const y = kernels.rmsNorm({ x: new Float32Array(4), weight: new Float32Array([1, 1, 1, 1]), wDtype: 'F32', rows: 1, dim: 4, eps: 1e-5 });
    expect(Array.from(y)).toEqual([0, 0, 0, 0]);
  });

  it('rejects a weight whose length is not dim', () => {
    const args: RmsNormArgs = { x: new Float32Array(6), weight: new Float32Array(2), wDtype: 'F32', rows: 2, dim: 3, eps: 1e-6 };
    expect(() => kernels.rmsNorm(args)).toThrow(/`weight`.*dim = 3.*got 2/);
  });

  it('rejects x whose length is not rows * dim', () => {
    const args: RmsNormArgs = { x: new Float32Array(5), weight: new Float32Array(3), wDtype: 'F32', rows: 2, dim: 3, eps: 1e-6 };
    expect(() => kernels.rmsNorm(args)).toThrow(RangeError);
  });

  it('rejects weights stored in the wrong array type for wDtype', () => {
    const args: RmsNormArgs = { x: new Float32Array(3), weight: new Float32Array(3), wDtype: 'BF16', rows: 1, dim: 3, eps: 1e-6 };
    expect(() => kernels.rmsNorm(args)).toThrow(TypeError);
  });
});

describe('rope', () => {
  /** Rotate-half (Hugging Face): element i pairs with i + headDim/2, angle = pos · invFreq[i] in f32. */
  function reference(a: RopeArgs): number[] {
    const half = a.headDim / 2;
    const out = Array.from(a.x);
    for (let t = 0; t < a.tokens; t++) {
      for (let h = 0; h < a.heads; h++) {
        const base = (t * a.heads + h) * a.headDim;
        for (let i = 0; i < half; i++) {
          const angle = Math.fround(a.positions[t] * a.invFreq[i]);
          const c = Math.cos(angle) * a.attentionScaling;
          const s = Math.sin(angle) * a.attentionScaling;
          const x0 = a.x[base + i];
          const x1 = a.x[base + i + half];
          out[base + i] = x0 * c - x1 * s;
          out[base + i + half] = x1 * c + x0 * s;
        }
      }
    }
    return out;
  }

  function args(tokens: number, heads: number, headDim: number, attentionScaling: number, seed: number): RopeArgs {
    const next = rng(seed);
    const half = headDim / 2;
    const invFreq = Float32Array.from({ length: half }, (_, i) => 10000 ** (-(2 * i) / headDim));
    const positions = Int32Array.from({ length: tokens }, () => Math.floor(next() * 4096));
    return { x: randomF32(tokens * heads * headDim, next), tokens, heads, headDim, positions, invFreq, attentionScaling };
  }

  it('rotates every head of every token by its position (rotate-half layout)', () => {
    for (const [tokens, heads, headDim] of [
      [1, 1, 2],
      [3, 2, 8],
      [5, 3, 64],
      [2, 14, 64],
    ]) {
      const a = args(tokens, heads, headDim, 1, tokens * 31 + headDim);
      expectClose(kernels.rope(a), reference(a), 2e-6, 2e-6, `tokens=${tokens} heads=${heads} headDim=${headDim}`);
    }
  });

  it('multiplies cos and sin by attentionScaling', () => {
    const a = args(4, 2, 16, 1.3, 5);
    expectClose(kernels.rope(a), reference(a), 2e-6, 2e-6, 'attentionScaling=1.3');
  });

  it('interleaved: pairs read at (2i, 2i+1) of llama.cpp-permuted rows give exactly the rotate-half result', () => {
    const a = args(3, 4, 64, 1, 11);
    // llama.cpp's Q/K row permutation within each head: element j·half + i moves to 2i + j.
    const half = a.headDim / 2;
    const permuted = new Float32Array(a.x.length);
    for (let base = 0; base < a.x.length; base += a.headDim) {
      for (let j = 0; j < 2; j++) for (let i = 0; i < half; i++) permuted[base + 2 * i + j] = a.x[base + j * half + i]!;
    }
    expect(Array.from(kernels.rope({ ...a, x: permuted, interleaved: true }))).toEqual(Array.from(kernels.rope(a)));
  });

  it('leaves position 0 unchanged', () => {
    const a = { ...args(1, 2, 8, 1, 3), positions: new Int32Array([0]) };
    expect(Array.from(kernels.rope(a))).toEqual(Array.from(a.x));
  });

  it('returns a rotated copy and leaves the input untouched', () => {
    const a = args(2, 1, 8, 1, 9);
    const before = Array.from(a.x);
    kernels.rope(a);
    expect(Array.from(a.x)).toEqual(before);
  });

  it('rejects an odd headDim', () => {
    const a = args(1, 1, 8, 1, 1);
    expect(() => kernels.rope({ ...a, headDim: 7, x: new Float32Array(7), invFreq: new Float32Array(3) })).toThrow(/even/);
  });

  it('rejects invFreq whose length is not headDim / 2', () => {
    const a = args(1, 1, 8, 1, 1);
    expect(() => kernels.rope({ ...a, invFreq: new Float32Array(3) })).toThrow(/`invFreq`.*headDim \/ 2 = 4/);
  });

  it('rejects negative positions', () => {
    const a = args(1, 1, 8, 1, 1);
    expect(() => kernels.rope({ ...a, positions: new Int32Array([-1]) })).toThrow(RangeError);
  });
});

describe('swiglu', () => {
  it('computes silu(gate) · up elementwise', () => {
    const next = rng(11);
    const gate = randomF32(1001, next, 12);
    const up = randomF32(1001, next, 3);
    const want = Array.from(gate, (g, i) => (g / (1 + Math.exp(-g))) * up[i]);
    expectClose(kernels.swiglu(gate, up), want, 2e-6, 1e-7, 'swiglu');
  });

  it('stays finite for gates far into both tails', () => {
    const gate = new Float32Array([-200, -90, 90, 200]);
    const up = new Float32Array([1, 1, 1, 1]);
    const y = kernels.swiglu(gate, up);
    expect(Array.from(y, (v) => Number.isFinite(v))).toEqual([true, true, true, true]);
    expectClose(y, [0, 0, 90, 200], 1e-6, 1e-30, 'tails');
  });

  it('matches silu to f32 accuracy across the whole range the vector exp covers, and keeps NaN', () => {
    // Every 1/64 from -100 to 100: both clamp edges of the SIMD exp (±88), the region where
    // silu underflows, and tails of 1..7 elements after the 8-wide vectors.
    for (const extra of [0, 1, 7]) {
      const gate = Float32Array.from({ length: 12801 + extra }, (_, i) => -100 + i / 64);
      const up = Float32Array.from(gate, (_, i) => 1 + (i % 5) / 4);
      const want = Array.from(gate, (g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      expectClose(kernels.swiglu(gate, up), want, 2e-6, 1e-30, `sweep + ${extra}`);
    }
    const y = kernels.swiglu(new Float32Array([Number.NaN, 1, 2, 3, 4, 5, 6, 7, Number.NaN]), new Float32Array(9).fill(1));
    expect(Number.isNaN(y[0])).toBe(true);
    expect(Number.isNaN(y[8])).toBe(true);
    expect(y[1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 6);
  });

  it('rejects gate and up of different lengths', () => {
    expect(() => kernels.swiglu(new Float32Array(3), new Float32Array(4))).toThrow(/same length, got 3 and 4/);
  });

  it('rejects arrays that are not Float32Array', () => {
    expect(() => kernels.swiglu(new Float64Array(3) as unknown as Float32Array, new Float32Array(3))).toThrow(TypeError);
  });
});
