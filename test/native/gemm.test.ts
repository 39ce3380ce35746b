import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { DTypeName, IsaName, PrecisionName } from '../../lib/native/addon-types.js';
import type { GemmArgs } from '../../lib/native/kernel-types.js';
import { benchGemmShapes } from '../../lib/cli/bench/gemm.js';
import { nativeKernels } from '../../lib/native/kernels.js';
import { rng } from '../helpers/tiny-model.js';

const kernels = nativeKernels();
const cpu = kernels.cpuInfo();

// --- Independent TypeScript decoding of the weight formats -------------------------------------

const scratchU32 = new Uint32Array(1);
const scratchF32 = new Float32Array(scratchU32.buffer);

/** bf16 is the top half of an f32. */
function bf16ToF32(bits: number): number {
  scratchU32[0] = (bits << 16) >>> 0;
  return scratchF32[0];
}

/** IEEE half from its definition: sign · 2^(e-15) · (1 + f/1024), subnormals 2^-14 · f/1024. */
function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return sign * f * 2 ** -24;
  if (e === 31) return f === 0 ? sign * Infinity : NaN;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

/** Round an f32 to the nearest bf16 (ties to even), returned as the f32 it represents. */
function roundToBf16(x: number): number {
  scratchF32[0] = x;
  const u = scratchU32[0];
  const rounded = Math.floor((u + 0x7fff + ((u >>> 16) & 1)) / 65536) % 65536;
  return bf16ToF32(rounded);
}

// --- Random inputs (seeded, so a failure reproduces) ---------------------------------------------

function randomF32(n: number, next: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = next() * 2 - 1;
  return a;
}

interface Weights {
  /** What the kernel receives. */
  w: Float32Array | Uint16Array;
  /** The values it represents, decoded in TypeScript. */
  values: Float64Array;
}

function randomWeights(dtype: DTypeName, n: number, next: () => number): Weights {
  const values = new Float64Array(n);
  if (dtype === 'F32') {
    const w = randomF32(n, next);
    values.set(w);
    return { w, values };
  }
  const w = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'BF16') {
      scratchF32[0] = next() * 4 - 2;
      w[i] = scratchU32[0] >>> 16;
      values[i] = bf16ToF32(w[i]);
    } else {
      // Exponents 0 (subnormal) to 16 (|w| < 4): every path of the f16 conversion.
      const sign = next() < 0.5 ? 0x8000 : 0;
      const exp = Math.floor(next() * 17);
      const man = Math.floor(next() * 1024);
      w[i] = sign | (exp << 10) | man;
      values[i] = f16ToF32(w[i]);
    }
  }
  return { w, values };
}

interface Reference {
  y: Float64Array;
  /** Σ|x·w| + |bias| per output: the scale of the rounding error of any summation order. */
  scale: Float64Array;
}

function referenceGemm(
  x: Float32Array,
  w: Float64Array,
  bias: Float32Array | undefined,
  m: number,
  n: number,
  k: number,
  precision: PrecisionName,
): Reference {
  const xs = precision === 'bf16' ? Float64Array.from(x, roundToBf16) : Float64Array.from(x);
  const y = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let a = 0;
      for (let t = 0; t < k; t++) {
        const p = xs[i * k + t] * w[j * k + t];
        s += p;
        a += Math.abs(p);
      }
      const b = bias ? bias[j] : 0;
      y[i * n + j] = s + b;
      scale[i * n + j] = a + Math.abs(b);
    }
  }
  return { y, scale };
}

/** Largest |got - want| / (scale + tiny), with where it happened. */
function worstError(got: Float32Array, ref: Reference): { err: number; at: number } {
  let err = 0;
  let at = -1;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - ref.y[i]) / (ref.scale[i] + 1e-30);
    if (!(e <= err)) {
      err = e;
      at = i;
    }
  }
  return { err, at };
}

// f32 sums of up to 130 terms in another order: well under k · 2^-24 relative to Σ|terms|.
const RTOL = 2e-5;

const ISAS: { isa: IsaName; supported: boolean; need: string }[] = [
  { isa: 'scalar', supported: true, need: '' },
  { isa: 'avx2', supported: cpu.avx2, need: ' (needs AVX2 on the host)' },
  { isa: 'avx512', supported: cpu.avx512, need: ' (needs AVX-512 on the host)' },
  { isa: 'avx512bf16', supported: cpu.avx512bf16, need: ' (needs AVX-512 BF16 on the host)' },
];
const DTYPES: DTypeName[] = ['F32', 'F16', 'BF16'];
const PRECISIONS: PrecisionName[] = ['f32', 'bf16'];
const MS = [1, 3, 17, 64];
const NS = [1, 5, 33, 96];
const KS = [1, 7, 64, 130];

interface Case {
  m: number;
  n: number;
  k: number;
  x: Float32Array;
  weights: Weights;
  bias: Float32Array;
}

// Inputs per dtype, made once and shared by every ISA and precision.
const casesByDtype = new Map<DTypeName, Case[]>();
function cases(dtype: DTypeName): Case[] {
  let list = casesByDtype.get(dtype);
  if (!list) {
    const next = rng(1234 + dtype.length);
    list = [];
    for (const m of MS)
      for (const n of NS)
        for (const k of KS)
          list.push({ m, n, k, x: randomF32(m * k, next), weights: randomWeights(dtype, n * k, next), bias: randomF32(n, next) });
    casesByDtype.set(dtype, list);
  }
  return list;
}

describe.each(ISAS)('gemm on $isa', ({ isa, supported, need }) => {
  for (const wDtype of DTYPES) {
    for (const precision of PRECISIONS) {
      it.skipIf(!supported)(
        `matches the TypeScript reference for ${wDtype} weights at ${precision} precision on every awkward shape, threads 1 and 2, with and without bias${need}`,
        () => {
          for (const c of cases(wDtype)) {
            for (const withBias of [false, true]) {
              const bias = withBias ? c.bias : undefined;
              const ref = referenceGemm(c.x, c.weights.values, bias, c.m, c.n, c.k, precision);
              for (const threads of [1, 2]) {
                const y = kernels.gemm({ x: c.x, w: c.weights.w, wDtype, bias, m: c.m, n: c.n, k: c.k, precision, isa, threads });
                const { err, at } = worstError(y, ref);
                expect(err, `m=${c.m} n=${c.n} k=${c.k} threads=${threads} bias=${withBias} worst at ${at}`).toBeLessThan(RTOL);
              }
            }
          }
        },
      );
    }

    it.skipIf(!supported)(
      `matches the reference for ${wDtype} weights when k spans several cache blocks and n several column blocks${need}`,
      () => {
        const next = rng(99);
        const [m, n, k] = [9, 200, 1100];
        const x = randomF32(m * k, next);
        const weights = randomWeights(wDtype, n * k, next);
        const bias = randomF32(n, next);
        for (const precision of PRECISIONS) {
          const ref = referenceGemm(x, weights.values, bias, m, n, k, precision);
          const y = kernels.gemm({ x, w: weights.w, wDtype, bias, m, n, k, precision, isa, threads: 2 });
          const { err, at } = worstError(y, ref);
          // Longer sums: the tolerance grows with k like the rounding error bound does.
          expect(err, `${precision} worst at ${at}`).toBeLessThan(RTOL * (k / 130));
        }
      },
    );
  }

  // Whatever tile a column lands in (1×8 for one row, 4×3 / 3×4 / 2×6 for more, r×1 for the columns
  // left over), it is reduced in the same order, so at f32 precision and k within one cache block a
  // row of X gets the bits it gets alone: a prompt's last row equals that row decoded by itself, which
  // the prefix cache relies on for identical logits. (On AVX2 a lone accumulator used to be summed in
  // another order than four together, 1 ulp apart.)
  it.skipIf(!supported)(`gives each row of X at f32 precision what it gets alone, for every tile shape${need}`, () => {
    const next = rng(31);
    const [n, k] = [37, 130];
    for (const wDtype of DTYPES) {
      const weights = randomWeights(wDtype, n * k, next);
      for (const m of [2, 3, 4, 5, 9]) {
        const x = randomF32(m * k, next);
        const y = kernels.gemm({ x, w: weights.w, wDtype, m, n, k, precision: 'f32', isa, threads: 1 });
        for (let i = 0; i < m; i++) {
          const alone = kernels.gemm({ x: x.slice(i * k, (i + 1) * k), w: weights.w, wDtype, m: 1, n, k, precision: 'f32', isa, threads: 1 });
          expect(Array.from(y.subarray(i * n, (i + 1) * n)), `${wDtype} m=${m} row ${i}`).toEqual(Array.from(alone));
        }
      }
    }
  });

  it.skipIf(!supported)(
    `matches the reference for BF16 weights when X itself spans several row and k blocks (the avx512bf16 panel kernel's blocking), with odd column and row remainders${need}`,
    () => {
      // 150 rows = 9 full 16-row groups + 6; k = 2200 = 1100 pairs, over the 1024-pair k block; 77
      // columns leave remainders after every tile width.
      const next = rng(7);
      const [m, n, k] = [150, 77, 2200];
      const x = randomF32(m * k, next);
      const weights = randomWeights('BF16', n * k, next);
      const bias = randomF32(n, next);
      for (const precision of PRECISIONS) {
        const ref = referenceGemm(x, weights.values, bias, m, n, k, precision);
        const y = kernels.gemm({ x, w: weights.w, wDtype: 'BF16', bias, m, n, k, precision, isa, threads: 2 });
        const { err, at } = worstError(y, ref);
        expect(err, `${precision} worst at ${at}`).toBeLessThan(RTOL * (k / 130));
      }
    },
  );

  it.skipIf(!supported)(
    `matches the reference for every weight dtype in the shapes that steer the f32 panel kernel (one row tile over several W blocks, row-blocked with row remainders, odd k)${need}`,
    () => {
      // m = 32 and 64: one avx512 row tile (2 and 4 groups of 16) widening its own 256-step W blocks,
      // avx2's row-blocked path (4 and 8 groups of 8); m = 40 and 48: 5 avx2 and 3 avx512 groups, so
      // the row-blocked path ends on a row remainder; k odd and past the 512-step block; column
      // counts leave remainders after every tile width.
      const next = rng(31);
      for (const [m, n, k] of [
        [32, 30, 517],
        [40, 53, 1031],
        [48, 29, 300],
        [64, 41, 777],
      ]) {
        const x = randomF32(m * k, next);
        const bias = randomF32(n, next);
        for (const dtype of DTYPES) {
          const weights = randomWeights(dtype, n * k, next);
          for (const precision of PRECISIONS) {
            const ref = referenceGemm(x, weights.values, bias, m, n, k, precision);
            const y = kernels.gemm({ x, w: weights.w, wDtype: dtype, bias, m, n, k, precision, isa, threads: 2 });
            const { err, at } = worstError(y, ref);
            expect(err, `${dtype} ${precision} m=${m} n=${n} k=${k} worst at ${at}`).toBeLessThan(RTOL * (k / 130));
          }
        }
      }
    },
  );

  it.skipIf(!supported)(`rounds activations to bf16 in bf16 precision and keeps them exact in f32 precision${need}`, () => {
    // 1 + 2^-10 is between the bf16 neighbours 1 and 1 + 2^-7, nearer 1.
    const args: GemmArgs = {
      x: new Float32Array([1 + 2 ** -10]),
      w: new Float32Array([1]),
      wDtype: 'F32',
      m: 1,
      n: 1,
      k: 1,
      precision: 'f32',
      isa,
      threads: 1,
    };
    expect(kernels.gemm(args)[0]).toBe(1 + 2 ** -10);
    expect(kernels.gemm({ ...args, precision: 'bf16' })[0]).toBe(1);
  });
});

describe('gemm argument checks', () => {
  const base = (): GemmArgs => ({
    x: new Float32Array(6),
    w: new Uint16Array(9),
    wDtype: 'BF16',
    m: 2,
    n: 3,
    k: 3,
    precision: 'f32',
    isa: 'scalar',
    threads: 1,
  });

  it('accepts the base arguments', () => {
    expect(kernels.gemm(base())).toHaveLength(6);
  });

  it('rejects x whose length is not m * k', () => {
    expect(() => kernels.gemm({ ...base(), x: new Float32Array(5) })).toThrow(RangeError);
    expect(() => kernels.gemm({ ...base(), x: new Float32Array(5) })).toThrow(/`x`.*m \* k = 6.*got 5/);
  });

  it('rejects w whose length is not n * k', () => {
    expect(() => kernels.gemm({ ...base(), w: new Uint16Array(8) })).toThrow(/`w`.*n \* k = 9.*got 8/);
  });

  it('rejects weights whose array type does not match wDtype', () => {
    expect(() => kernels.gemm({ ...base(), w: new Float32Array(9) })).toThrow(TypeError);
    expect(() => kernels.gemm({ ...base(), wDtype: 'F32' })).toThrow(/Float32Array/);
  });

  it('rejects a bias whose length is not n', () => {
    expect(() => kernels.gemm({ ...base(), bias: new Float32Array(2) })).toThrow(/`bias`.*n = 3.*got 2/);
  });

  it('rejects sizes that are zero or negative with a RangeError', () => {
    expect(() => kernels.gemm({ ...base(), m: 0, x: new Float32Array(0) })).toThrow(RangeError);
    expect(() => kernels.gemm({ ...base(), k: -3 })).toThrow(RangeError);
  });

  it('rejects thread counts below one', () => {
    expect(() => kernels.gemm({ ...base(), threads: 0 })).toThrow(RangeError);
  });

  it('rejects an isa name it does not know', () => {
    expect(() => kernels.gemm({ ...base(), isa: 'sse9' as IsaName })).toThrow(/one of 'scalar', 'avx2'/);
  });

  it('rejects unknown dtype and precision names', () => {
    expect(() => kernels.gemm({ ...base(), wDtype: 'F8' as DTypeName })).toThrow(TypeError);
    expect(() => kernels.gemm({ ...base(), precision: 'f16' as PrecisionName })).toThrow(TypeError);
  });

  const unsupported = ISAS.find((i) => !i.supported);
  it.skipIf(!unsupported)('names the isa the CPU cannot run and the ones it can (needs a host lacking some ISA)', () => {
    const isa = unsupported!.isa;
    const has = ISAS.filter((i) => i.supported && i.isa !== 'scalar').map((i) => i.isa).join(', ') || 'scalar only';
    expect(() => kernels.gemm({ ...base(), isa })).toThrow(`isa '${isa}' is not supported by this CPU (it has: ${has})`);
  });
});

describe('machine-limit benches', () => {
  it('benchFmaPeak reports a positive, finite GFLOP/s figure for both precisions', () => {
    for (const precision of PRECISIONS) {
      const g = kernels.benchFmaPeak(precision, 1);
      expect(Number.isFinite(g) && g > 0, `${precision}: ${g}`).toBe(true);
    }
  });

  it.skipIf(!cpu.avx2)('benchFmaPeak with widest avx2 measures the ymm loop, and refuses an ISA the host lacks', () => {
    const g = kernels.benchFmaPeak('f32', 1, 'avx2');
    expect(Number.isFinite(g) && g > 0, String(g)).toBe(true);
    expect(() => kernels.benchFmaPeak('f32', 1, 'avx3' as IsaName)).toThrow(/Expected `isa` to be one of .*got 'avx3'/);
    if (!cpu.avx512) expect(() => kernels.benchFmaPeak('f32', 1, 'avx512')).toThrow(/not supported by this CPU/);
  });

  it('benchReadBandwidth reports a positive, finite GB/s figure', () => {
    const gbs = kernels.benchReadBandwidth(32 * 2 ** 20, 2);
    expect(Number.isFinite(gbs) && gbs > 0, String(gbs)).toBe(true);
  });

  it('benchReadCalls reports the call pattern and the long read of the same bytes', () => {
    const r = kernels.benchReadCalls([4 << 20, 1 << 20, 100, 3 << 20], 2, 0.05);
    for (const v of [r.wholeGBps, r.callsGBps]) expect(Number.isFinite(v) && v > 0, String(v)).toBe(true);
  });

  it('benchReadCalls names the bad argument', () => {
    expect(() => kernels.benchReadCalls('1024' as unknown as number[], 1)).toThrow(/Expected `callBytes` to be an array/);
    expect(() => kernels.benchReadCalls([], 1)).toThrow(/`callBytes` to hold 1 to 1048576 calls, got 0/);
    expect(() => kernels.benchReadCalls([1024, 1.5], 1)).toThrow(/`callBytes\[1\]` to be an integer/);
    expect(() => kernels.benchReadCalls([1024, '8' as unknown as number], 1)).toThrow(/`callBytes\[1\]` to be an integer number, got a string/);
    expect(() => kernels.benchReadCalls([0], 1)).toThrow(/`callBytes\[0\]` to be an integer in \[4, /);
    expect(() => kernels.benchReadCalls([Math.floor(totalmem() / 4), Math.floor(totalmem() / 4), 4096], 1)).toThrow(/sum to at most half the memory/);
    expect(() => kernels.benchReadCalls([1024], 0)).toThrow(/`threads`/);
    expect(() => kernels.benchReadCalls([1024], 1, 0)).toThrow(/`seconds` in \(0, 60\], got 0/);
    expect(() => kernels.benchReadCalls([1024], 1, Number.NaN)).toThrow(/`seconds` to be finite/);
  });

  it('benchGemm reports a positive, finite time per call', () => {
    const next = rng(5);
    const s = kernels.benchGemm(
      { x: randomF32(2 * 64, next), w: randomF32(8 * 64, next), wDtype: 'F32', m: 2, n: 8, k: 64, precision: 'f32', isa: 'scalar', threads: 1 },
      2,
    );
    expect(Number.isFinite(s) && s > 0, String(s)).toBe(true);
  });

  it('benchGemm validates its arguments like gemm does', () => {
    const args: GemmArgs = { x: new Float32Array(3), w: new Float32Array(4), wDtype: 'F32', m: 1, n: 2, k: 2, precision: 'f32', isa: 'scalar', threads: 1 };
    expect(() => kernels.benchGemm(args, 1)).toThrow(/`x`.*m \* k = 2.*got 3/);
    expect(() => kernels.benchGemm({ ...args, x: new Float32Array(2) }, 0)).toThrow(RangeError);
  });

  it('rejects unknown precisions, non-positive thread counts and buffers too small to measure', () => {
    expect(() => kernels.benchFmaPeak('f16' as PrecisionName, 1)).toThrow(TypeError);
    expect(() => kernels.benchFmaPeak('f32', 0)).toThrow(RangeError);
    expect(() => kernels.benchReadBandwidth(0, 1)).toThrow(RangeError);
  });

  it('refuses a bandwidth buffer larger than half the physical memory instead of risking the OOM killer', () => {
    expect(() => kernels.benchReadBandwidth(totalmem(), 1)).toThrow(RangeError);
  });
});

describe('benchGemmShapes', () => {
  it('reports each Qwen2.5-0.5B MLP shape against the limits it is given, one logged line per row', async () => {
    const lines: string[] = [];
    const machine = { fmaPeakF32: 100, fmaPeakBf16: 100, readBandwidth: 10 };
    const rows = await benchGemmShapes({ threads: 1, log: (l) => lines.push(l), machine, tokens: [1], repeats: 1, isa: cpu.bestIsa });
    // bf16 on packed rows too where its kernel runs (avx512bf16).
    const packed = cpu.bestIsa === 'avx512bf16';
    const per = (n: number, k: number) => [
      [1, n, k, 'f32', false],
      [1, n, k, 'bf16', false],
      ...(packed ? [[1, n, k, 'bf16', true]] : []),
    ];
    expect(rows.map((r) => [r.m, r.n, r.k, r.precision, r.packed])).toEqual([...per(4864, 896), ...per(896, 4864)]);
    for (const r of rows) {
      expect(r.gflops).toBeCloseTo((2 * r.m * r.n * r.k) / r.secondsPerCall / 1e9, 9);
      expect(r.peakFraction).toBeCloseTo(r.gflops / 100, 9);
      expect(r.effectiveGBs).toBeCloseTo((r.n * r.k * 2 + r.k * 4 + r.n * 4) / r.secondsPerCall / 1e9, 9);
      expect(r.bandwidthFraction).toBeCloseTo(r.effectiveGBs! / 10, 9);
    }
    expect(lines.filter((l) => /^\s+1\s+(4864|896)\s/.test(l))).toHaveLength(rows.length);
  });

  it.skipIf(!cpu.avx2 || cpu.bestIsa === 'avx2')('on an AVX-512 host, the AVX2 code path is held against the ymm peak it measures, not the given one', async () => {
    const lines: string[] = [];
    const machine = { fmaPeakF32: 1e9, fmaPeakBf16: 1e9, readBandwidth: 10 };
    const rows = await benchGemmShapes({ threads: 1, log: (l) => lines.push(l), machine, tokens: [1], repeats: 1, isa: 'avx2' });
    const logged = /AVX2 \(ymm\) FMA peak ([0-9.]+) GFLOP\/s/.exec(lines.join('\n'));
    expect(logged).not.toBeNull();
    const peak = Number(logged![1]);
    expect(peak).toBeGreaterThan(0);
    expect(rows.map((r) => r.isa)).toEqual(rows.map(() => 'avx2'));
    // The printed peak has one decimal: the fraction follows from it to that precision.
    for (const r of rows) expect(Math.abs(r.peakFraction - r.gflops / peak)).toBeLessThanOrEqual((r.gflops / peak) * (0.06 / peak));
  });
});

// BF16 weights packed by 16 rows (packed_weights.h) for the AVX-512 BF16 kernel a CPU model at
// precision 'bf16' runs: the f64 GEMM on bf16-rounded X within f32 summation, every row as if alone.
describe.skipIf(!cpu.avx512bf16)('gemm on packed BF16 weights (avx512bf16, bf16 precision)', () => {
  const next = rng(4321);
  // 45 columns: two whole groups of 16 and a padded one; 4 groups per tile, so 70 makes a partial tile.
  // 7 to 32 rows run k in chunks of 32 pairs, the row tiles taking turns on each: 16 × 130 is 3 chunks
  // (the last of one pair) for tiles of 6, 6 and 4 rows; 32 × 200 is 4 chunks (the last of 4 pairs) for five
  // 6-row tiles and a 2-row one.
  const shapes = [[1, 45, 130], [2, 70, 64], [5, 45, 130], [6, 16, 2], [7, 33, 66], [13, 70, 64], [16, 45, 130], [32, 70, 200], [64, 33, 130], [70, 45, 64]] as const;
  for (const [m, n, k] of shapes) {
    it(`m=${m} n=${n} k=${k}`, () => {
      const { w, values } = randomWeights('BF16', n * k, next);
      const x = randomF32(m * k, next);
      const bias = randomF32(n, next);
      const ref = referenceGemm(x, values, bias, m, n, k, 'bf16');
      const args: GemmArgs = { x, w, wDtype: 'BF16', bias, m, n, k, precision: 'bf16', isa: 'avx512bf16', threads: 1, packed: true };
      for (const threads of [1, 3]) {
        const y = kernels.gemm({ ...args, threads });
        expect(worstError(y, ref).err).toBeLessThanOrEqual(RTOL);
        for (const i of new Set([0, m >> 1, m - 1])) {
          const alone = kernels.gemm({ ...args, x: x.slice(i * k, (i + 1) * k), m: 1, threads });
          expect(Array.from(y.subarray(i * n, (i + 1) * n))).toEqual(Array.from(alone));
        }
      }
    });
  }

  it('refuses an odd k, and runs the unpacked kernels where packed BF16 cannot (f32 precision)', () => {
    const w = new Uint16Array(3 * 5);
    expect(() => kernels.gemm({ x: new Float32Array(5), w, wDtype: 'BF16', m: 1, n: 3, k: 5, precision: 'bf16', isa: 'avx512bf16', threads: 1, packed: true })).toThrow(
      /`k` to be even for packed BF16 weights, got 5/,
    );
    const { w: w2, values } = randomWeights('BF16', 17 * 64, next);
    const x = randomF32(3 * 64, next);
    const y = kernels.gemm({ x, w: w2, wDtype: 'BF16', m: 3, n: 17, k: 64, precision: 'f32', isa: 'avx512bf16', threads: 1, packed: true });
    expect(worstError(y, referenceGemm(x, values, undefined, 3, 17, 64, 'f32')).err).toBeLessThanOrEqual(RTOL);
  });
});
