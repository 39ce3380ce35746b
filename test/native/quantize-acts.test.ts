/**
 * The int8 activation blocks every GEMM call on quantized weights makes of x: each ISA's quantizer
 * (scalar, and the AVX2 / AVX-512 vector ones) against the definition, computed here in f32 steps
 * with Math.fround, per block of 32 values (or of 256, the block Q4_K weights are paired with):
 * d = max|x| / 127, id = 1 / d (0 when d is 0), q = round(x · id) with ties away from zero, and the
 * sums of q over each 16. The vector quantizers must equal it bit for bit: the
 * integer dot products downstream are exact, so any difference would change a GEMM's result.
 */
import { describe, expect, it } from 'vitest';
import type { IsaName } from '../../lib/native/addon-types.js';
import { nativeKernels } from '../../lib/native/kernels.js';
import { rng } from '../helpers/tiny-model.js';

const kernels = nativeKernels();
const cpu = kernels.cpuInfo();
const ISAS: IsaName[] = (['scalar', 'avx2', 'avx512', 'avx512bf16'] as const).filter(
  (isa) => isa === 'scalar' || cpu[isa],
);

const f = Math.fround;

/** round half away from zero, of an f32 value */
function roundAway(v: number): number {
  const t = Math.trunc(v);
  const frac = v - t;
  return frac >= 0.5 ? t + 1 : frac <= -0.5 ? t - 1 : t;
}

function reference(x: Float32Array, rows: number, k: number, block: 32 | 256 = 32) {
  const q = new Int8Array(rows * k);
  const d = new Float32Array((rows * k) / block);
  const sum16 = new Int16Array((rows * k) / 16);
  for (let b = 0; b < (rows * k) / block; b++) {
    let amax = 0;
    for (let i = 0; i < block; i++) amax = Math.max(amax, Math.abs(x[block * b + i]!));
    const db = f(amax / 127);
    const id = db !== 0 ? f(1 / db) : 0;
    d[b] = db;
    for (let h = 0; h < block / 16; h++) {
      let s = 0;
      for (let i = 16 * h; i < 16 * h + 16; i++) {
        const v = roundAway(f(x[block * b + i]! * id));
        q[block * b + i] = v;
        s += v;
      }
      sum16[(block / 16) * b + h] = s;
    }
  }
  return { q, d, sum16 };
}

/** Rows of Gaussian-like values with outliers, then blocks built to sit on and next to rounding ties. */
function inputs(rows: number, k: number, seed: number): Float32Array {
  const next = rng(seed);
  const x = new Float32Array(rows * k);
  for (let i = 0; i < x.length; i++) {
    const g = (next() + next() + next() - 1.5) * 2;
    x[i] = next() < 0.02 ? 40 * g : g;
  }
  const blocks = x.length / 32;
  // max |x| = 127 makes d = 1 and id = 1: x · id is x itself, so halves are exact ties.
  for (let i = 0; i < 32; i++) x[i] = i === 0 ? 127 : ((i % 2 ? 1 : -1) * (i + 0.5)) % 127;
  // The same ties one f32 step either side.
  const up = new Float32Array(1);
  for (let i = 0; i < 32 && blocks > 2; i++) {
    const base = i === 0 ? -127 : (i % 2 ? 1 : -1) * (2 * i + 0.5);
    up[0] = base;
    const bits = new Int32Array(up.buffer);
    bits[0]! += i % 3 === 0 ? 1 : -1;
    x[32 + i] = i === 0 ? -127 : up[0]!;
  }
  // A block of zeros (d = 0), and one of a single tiny value among zeros.
  if (blocks > 3) x.fill(0, 64, 96);
  if (blocks > 4) {
    x.fill(0, 96, 128);
    x[100] = -1e-30;
  }
  return x;
}

describe('activation quantization for quantized GEMMs', () => {
  for (const isa of ISAS) {
    it(`${isa}: equals the definition bit for bit`, () => {
      for (const [rows, k, seed] of [
        [1, 896, 1],
        [1, 4864, 2],
        [5, 256, 3],
        [3, 32, 4],
      ] as const) {
        const x = inputs(rows, k, seed);
        const got = kernels.quantizeActs({ x, rows, k, isa });
        const want = reference(x, rows, k);
        expect(Array.from(got.d)).toEqual(Array.from(want.d));
        expect(Array.from(got.q)).toEqual(Array.from(want.q));
        expect(Array.from(got.sum16)).toEqual(Array.from(want.sum16));
      }
    });

    it(`${isa}: blocks of 256 (Q4_K's activations) equal the definition bit for bit`, () => {
      for (const [rows, k, seed] of [
        [1, 1536, 5],
        [3, 256, 6],
        [2, 8960, 8],
      ] as const) {
        const x = inputs(rows, k, seed);
        const got = kernels.quantizeActs({ x, rows, k, isa, block: 256 });
        const want = reference(x, rows, k, 256);
        expect(got.d.length).toBe((rows * k) / 256);
        expect(Array.from(got.d)).toEqual(Array.from(want.d));
        expect(Array.from(got.q)).toEqual(Array.from(want.q));
        expect(Array.from(got.sum16)).toEqual(Array.from(want.sum16));
      }
    });
  }

  it('checks the ties it was built to check', () => {
    const x = inputs(1, 256, 7);
    const q = reference(x, 1, 256).q;
    // block 0: x = ±(i + 0.5) with d = 1 rounds away from zero
    expect(q[1]).toBe(2);
    expect(q[2]).toBe(-3);
    expect(q[3]).toBe(4);
    // block 1: one f32 step off a tie goes the way of the step
    expect(Math.abs(q[32 + 3]!)).toBe(7);
    expect(Math.abs(q[32 + 1]!)).toBe(2);
  });

  it('checks the ties in blocks of 256 too (the first block has max |x| = 127, so d = 1)', () => {
    const x = inputs(1, 256, 7);
    const { q, d } = reference(x, 1, 256, 256);
    expect(d[0]).toBe(1);
    expect(q[1]).toBe(2);
    expect(q[2]).toBe(-3);
    expect(Math.abs(q[32 + 3]!)).toBe(7);
  });

  it('refuses k that is not a multiple of the block, and blocks other than 32 and 256', () => {
    expect(() => kernels.quantizeActs({ x: new Float32Array(40), rows: 1, k: 40, isa: 'scalar' })).toThrow(
      /multiple of 32 \(`block`\), got 40/,
    );
    expect(() => kernels.quantizeActs({ x: new Float32Array(96), rows: 1, k: 96, isa: 'scalar', block: 256 })).toThrow(
      /multiple of 256 \(`block`\), got 96/,
    );
    expect(() =>
      kernels.quantizeActs({ x: new Float32Array(128), rows: 1, k: 128, isa: 'scalar', block: 64 as 256 }),
    ).toThrow(/`block` to be 32 or 256, got 64/);
    expect(() => kernels.quantizeActs({ x: new Float32Array(31), rows: 1, k: 32, isa: 'scalar' })).toThrow(/x/);
  });
});
