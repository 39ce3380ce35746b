// The CUDA kernels against their CPU twins on random inputs, at the CPU tests' tolerances: one suite,
// run against a real GPU (kernels.gpu.test.ts) and against the CPU emulator build of the same kernel
// sources (kernels.emu.test.ts), which runs them here, slowly, on smaller inputs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DTypeName, PrecisionName } from '../../lib/native/addon-types.js';
import type { AttentionArgs, CudaSession } from '../../lib/native/kernel-types.js';
import { nativeKernels, openCudaSession } from '../../lib/native/kernels.js';
import { dequantizeRows, quantizeRows } from '../../lib/models/quant/index.js';
import { maxAbsDiff, randomArray, rng } from './gpu.js';

const cpu = nativeKernels();
const best = cpu.cpuInfo().bestIsa;

// bf16 / f16 bits of f32 values (round to nearest even), for weights in those dtypes.
function toBf16(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (u[i]! + 0x7fff + ((u[i]! >>> 16) & 1)) >>> 16;
  return out;
}
function bf16ToF32(b: Uint16Array): Float32Array {
  const u = new Uint32Array(b.length);
  for (let i = 0; i < b.length; i++) u[i] = b[i]! << 16;
  return new Float32Array(u.buffer);
}
function toF16(x: Float32Array): Uint16Array {
  // Inputs here lie in [-1, 1]: normal halves or zero, so a direct rounding suffices.
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
    const a = Math.abs(v);
    if (a < 6.103515625e-5) {
      out[i] = sign | Math.round(a / 5.960464477539063e-8);
      continue;
    }
    let e = Math.floor(Math.log2(a));
    let m = Math.round((a / 2 ** e - 1) * 1024);
    if (m === 1024) {
      m = 0;
      e++;
    }
    out[i] = sign | ((e + 15) << 10) | m;
  }
  return out;
}

/**
 * Defines the parity suite for the library at `libPath`, device `device`. `small` shrinks the inputs
 * (the emulator runs a block's threads one at a time); the sampler's statistical test runs on both
 * (20,000 draws take about 7 s on the emulator).
 */
export function cudaParitySuite(title: string, libPath: string, device: number, small: boolean): void {
  describe(title, () => {
    let s: CudaSession;
    beforeAll(() => {
      s = openCudaSession(libPath, device);
    });
    afterAll(() => s?.dispose());

    describe('gemm', () => {
      const cases: [DTypeName, PrecisionName][] = [
        ['F32', 'f32'], ['F16', 'f32'], ['BF16', 'f32'], ['F32', 'bf16'], ['F16', 'bf16'], ['BF16', 'bf16'],
      ];
      for (const [wDtype, precision] of cases) {
        it(`matches the CPU for ${wDtype} weights at ${precision} precision, ragged shapes`, () => {
          const shapes = small ? [[1, 67, 130], [37, 129, 257], [5, 100, 296]] : [[1, 67, 130], [37, 129, 257], [64, 64, 64], [5, 300, 1000]];
            for (const [m, n, k] of shapes as [number, number, number][]) {
            const x = randomArray(m * k, m * 7 + n, 1);
            const wf = randomArray(n * k, n * 13 + k, 1);
            const w = wDtype === 'F32' ? wf : wDtype === 'BF16' ? toBf16(wf) : toF16(wf);
            const bias = randomArray(n, k, 1);
            const args = { x, w, wDtype, bias, m, n, k, precision };
            const want = cpu.gemm({ ...args, isa: best, threads: 2 });
            const got = s.gemm(args);
            let err = 0;
            for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
            expect(err, `m=${m} n=${n} k=${k}`).toBeLessThan(2e-5 * Math.max(1, k / 130));
          }
        });
      }
    });

    describe('gemm on quantized weights', () => {
      // The GPU decodes each weight from its block (quant_blocks.h) and runs the f32 GEMM: the CPU's
      // GEMM on dequantizeRows(W) as F32 weights is its twin, at the float cases' tolerance.
      for (const type of ['q8_0', 'q4_0', 'q4_k', 'q6_k'] as const) {
        for (const precision of ['f32', 'bf16'] as const) {
          it(`matches the CPU on the dequantized ${type} weights at ${precision} precision`, () => {
            const shapes = small ? [[1, 67, 256], [37, 29, 512]] : [[1, 67, 256], [37, 129, 512], [5, 300, 1024]];
            for (const [m, n, k] of shapes as [number, number, number][]) {
              const x = randomArray(m * k, m * 7 + n, 1);
              const w = quantizeRows(type, randomArray(n * k, n * 13 + k, 1), n, k);
              const bias = randomArray(n, k, 1);
              const want = cpu.gemm({ x, w: dequantizeRows(type, w, n, k), wDtype: 'F32', bias, m, n, k, precision, isa: best, threads: 2 });
              const got = s.gemm({ x, w, wDtype: type.toUpperCase() as DTypeName, bias, m, n, k, precision });
              let err = 0;
              for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
              expect(err, `m=${m} n=${n} k=${k}`).toBeLessThan(2e-5 * Math.max(1, k / 130));
            }
          });
        }
        it(`embed decodes ${type} rows exactly as dequantizeRows does`, () => {
          const dim = 256;
          const vocab = 5;
          const table = quantizeRows(type, randomArray(vocab * dim, 99, 1), vocab, dim);
          const tokens = Int32Array.of(4, 0, 4, 2);
          const all = dequantizeRows(type, table, vocab, dim);
          const want = new Float32Array(tokens.length * dim);
          tokens.forEach((t, r) => want.set(all.subarray(t * dim, (t + 1) * dim), r * dim));
          expect(s.embed(table, type.toUpperCase() as DTypeName, dim, tokens)).toEqual(want);
        });
      }
    });

    it('rmsNorm matches the CPU for every weight dtype', () => {
      const rows = 9, dim = 1000;
      const x = randomArray(rows * dim, 1, 3);
      const wf = randomArray(dim, 2, 1);
      for (const [wDtype, weight] of [['F32', wf], ['BF16', toBf16(wf)], ['F16', toF16(wf)]] as const) {
        const args = { x, weight, wDtype, rows, dim, eps: 1e-6 };
        expect(maxAbsDiff(s.rmsNorm(args), cpu.rmsNorm(args)), wDtype).toBeLessThan(1e-5);
      }
    });

    it('rope matches the CPU at large positions', () => {
      const tokens = 7, heads = 3, headDim = 64;
      const x = randomArray(tokens * heads * headDim, 3, 1);
      const positions = Int32Array.from([0, 1, 17, 511, 4095, 32767, 131071]);
      const invFreq = Float32Array.from({ length: headDim / 2 }, (_, i) => 1 / 10000 ** ((2 * i) / headDim));
      const args = { x, tokens, heads, headDim, positions, invFreq, attentionScaling: 1.25 };
      expect(maxAbsDiff(s.rope(args), cpu.rope(args))).toBeLessThan(1e-5);
    });

    it('interleaved rope (GGUF llama rows) matches the CPU', () => {
      const tokens = 5, heads = 3, headDim = 128;
      const x = randomArray(tokens * heads * headDim, 7, 1);
      const positions = Int32Array.from([0, 3, 99, 4095, 65535]);
      const invFreq = Float32Array.from({ length: headDim / 2 }, (_, i) => 1 / 10000 ** ((2 * i) / headDim));
      const args = { x, tokens, heads, headDim, positions, invFreq, attentionScaling: 1, interleaved: true };
      expect(maxAbsDiff(s.rope(args), cpu.rope(args))).toBeLessThan(1e-5);
    });

    it('swiglu matches the CPU', () => {
      const gate = randomArray(5000, 4, 8), up = randomArray(5000, 5, 2);
      expect(maxAbsDiff(s.swiglu(gate, up), cpu.swiglu(gate, up))).toBeLessThan(1e-6);
    });

    describe('attention', () => {
      interface Seq { len: number; queries: number; forkOf?: number; shared?: number }
      function build(headDim: number, seqs: Seq[], seed: number, window = 0): AttentionArgs {
        const r = rng(seed);
        const P = 16, H = 8, KVH = 2;
        const tables: number[][] = [];
        let pages = 0;
        for (const q of seqs) {
          const need = Math.ceil(q.len / P);
          const t = q.forkOf === undefined ? [] : tables[q.forkOf]!.slice(0, q.shared);
          while (t.length < need) t.push(pages++);
          tables.push(t);
        }
        const pageFloats = P * KVH * headDim;
        const tokens = seqs.reduce((a, q) => a + q.queries, 0);
        const f = (n: number) => Float32Array.from({ length: n }, () => 2 * r() - 1);
        return {
          q: f(tokens * H * headDim),
          kPages: f(pages * pageFloats),
          vPages: f(pages * pageFloats),
          pageTokens: P,
          numHeads: H,
          numKvHeads: KVH,
          headDim,
          pageIndptr: Int32Array.from([0, ...tables.map((_, i) => tables.slice(0, i + 1).reduce((a, t) => a + t.length, 0))]),
          pageIndices: Int32Array.from(tables.flat()),
          seqLens: Int32Array.from(seqs.map((q) => q.len)),
          queryIndptr: Int32Array.from([0, ...seqs.map((_, i) => seqs.slice(0, i + 1).reduce((a, q) => a + q.queries, 0))]),
          slidingWindow: window,
          sharedPrefix: true,
          threads: 2,
        };
      }
      const beams: Seq[] = [
        { len: 300, queries: 1 },
        { len: 290, queries: 1, forkOf: 0, shared: 17 },
        { len: 310, queries: 1, forkOf: 0, shared: 17 },
        { len: 40, queries: 40 },
        { len: 700, queries: 3 },
      ];
      for (const headDim of [16, 32, 64, 128, 256]) {
        it(`matches the CPU for decode, prefill and forked beams at head_dim ${headDim}`, () => {
          const args = build(headDim, beams, headDim);
          expect(maxAbsDiff(s.attention(args), cpu.attention(args))).toBeLessThanOrEqual(1e-5);
        });
      }

      it('gives the same output with and without the shared-prefix split', () => {
        const args = build(128, beams, 11);
        expect(maxAbsDiff(s.attention(args), s.attention({ ...args, sharedPrefix: false }))).toBeLessThanOrEqual(1e-5);
      });

      it('matches the CPU with a sliding window', () => {
        const args = build(128, beams, 12, 37);
        expect(maxAbsDiff(s.attention(args), cpu.attention(args))).toBeLessThanOrEqual(1e-5);
      });

      // bf16 pages run on the tensor cores, which round Q and the softmax weights P to bf16 too
      // (FlashAttention's precision): within 1e-2 of the f32 CPU twin on the same rounded pages.
      it('reads bf16 pages on the tensor cores to within bf16 rounding of the CPU on the same pages', () => {
        for (const headDim of [16, 32, 64, 128, 256]) {
          const args = build(headDim, beams, 13 + headDim);
          const rounded = { ...args, kPages: bf16ToF32(toBf16(args.kPages)), vPages: bf16ToF32(toBf16(args.vPages)) };
          expect(maxAbsDiff(s.attention({ ...args, kvDtype: 'BF16' }), cpu.attention(rounded)), `head_dim ${headDim}`).toBeLessThanOrEqual(1e-2);
        }
      });

      it('gives the same bf16 output with and without the shared-prefix split, to bf16 rounding', () => {
        const args = { ...build(128, beams, 14), kvDtype: 'BF16' as const };
        expect(maxAbsDiff(s.attention(args), s.attention({ ...args, sharedPrefix: false }))).toBeLessThanOrEqual(1e-2);
      });
    });

    describe('sampling', () => {
      function rows(vocab: number, n: number, seed: number, filters: { temperature: number; topK: number; topP: number; minP: number }) {
        return {
          logits: randomArray(vocab * n, seed, 4),
          rows: n,
          vocab,
          temperature: new Float32Array(n).fill(filters.temperature),
          topK: new Int32Array(n).fill(filters.topK),
          topP: new Float32Array(n).fill(filters.topP),
          minP: new Float32Array(n).fill(filters.minP),
          seeds: Float64Array.from({ length: n }, (_, i) => 1000 + i),
          counters: Uint32Array.from({ length: n }, (_, i) => i * 3),
        };
      }

      it('is greedy (argmax, lowest id on ties) at temperature 0', () => {
        const a = rows(1000, small ? 8 : 64, 1, { temperature: 0, topK: 0, topP: 1, minP: 0 });
        expect(Array.from(s.sample(a))).toEqual(Array.from(cpu.sample(a)));
      });

      // The same Philox stream (seed, counter) → u, and the same walk order, so the same token but
      // where summation order puts u within rounding of a boundary.
      for (const filters of [
        { temperature: 1, topK: 0, topP: 1, minP: 0 },
        { temperature: 0.7, topK: 40, topP: 1, minP: 0 },
        { temperature: 1.3, topK: 0, topP: 0.9, minP: 0 },
        { temperature: 1, topK: 500, topP: 0.95, minP: 0.05 },
      ]) {
        it(`draws the CPU sampler's tokens from the same Philox stream (${JSON.stringify(filters)})`, () => {
          const a = small ? rows(3001, 6, 2, filters) : rows(151936, 256, 2, filters);
          const g = s.sample(a), c = cpu.sample(a);
          let same = 0;
          for (let i = 0; i < g.length; i++) same += g[i] === c[i] ? 1 : 0;
          expect(same).toBeGreaterThanOrEqual(g.length - 1);
        });
      }

      // Logits on a coarse grid: every cut falls inside a run of ties, which both samplers break by id.
      it("draws the CPU sampler's tokens when many logits tie at the cuts", () => {
        for (const filters of [
          { temperature: 1, topK: 37, topP: 1, minP: 0 },
          { temperature: 0.9, topK: 0, topP: 0.6, minP: 0 },
          { temperature: 1.1, topK: 300, topP: 0.8, minP: 0.1 },
        ]) {
          const a = small ? rows(2003, 6, 5, filters) : rows(151936, 64, 5, filters);
          for (let i = 0; i < a.logits.length; i++) a.logits[i] = Math.round(a.logits[i]! * 2) / 2;
          const g = s.sample(a), c = cpu.sample(a);
          expect(Array.from(g), JSON.stringify(filters)).toEqual(Array.from(c));
        }
      });

      it('draws from the renormalised filtered distribution (chi-square, vocab 111)', () => {
        const vocab = 111, n = 20000;
        const base = randomArray(vocab, 9, 2);
        const logits = new Float32Array(vocab * n);
        for (let r = 0; r < n; r++) logits.set(base, r * vocab);
        const T = 0.8, topK = 30, topP = 0.9, minP = 0.02;
        const a = {
          logits, rows: n, vocab,
          temperature: new Float32Array(n).fill(T), topK: new Int32Array(n).fill(topK),
          topP: new Float32Array(n).fill(topP), minP: new Float32Array(n).fill(minP),
          seeds: new Float64Array(n).fill(77), counters: Uint32Array.from({ length: n }, (_, i) => i),
        };
        // reference: HF order of filters on the exact distribution
        const order = Array.from({ length: vocab }, (_, i) => i).sort((x, y) => base[y]! - base[x]! || x - y);
        const w = new Float64Array(vocab);
        for (const i of order.slice(0, topK)) w[i] = Math.exp((base[i]! - base[order[0]!]!) / T);
        const total = w.reduce((x, y) => x + y, 0);
        let before = 0;
        for (let j = 0; j < topK; j++) {
          const i = order[j]!;
          if (j > 0 && before >= topP * total) w[i] = 0;
          before += Math.exp((base[i]! - base[order[0]!]!) / T);
        }
        for (let i = 0; i < vocab; i++) if (w[i]! < minP) w[i] = 0;
        const z = w.reduce((x, y) => x + y, 0);
        const counts = new Float64Array(vocab);
        for (const t of s.sample(a)) counts[t]!++;
        let chi = 0, dof = -1;
        for (let i = 0; i < vocab; i++) {
          const e = (w[i]! / z) * n;
          if (e === 0) {
            expect(counts[i], `token ${i} was filtered out`).toBe(0);
            continue;
          }
          chi += (counts[i]! - e) ** 2 / e;
          dof++;
        }
        // p < 1e-4 critical value, approximated by Wilson–Hilferty for dof degrees of freedom
        const crit = dof * (1 - 2 / (9 * dof) + 3.719 * Math.sqrt(2 / (9 * dof))) ** 3;
        expect(chi).toBeLessThan(crit);
      });
    });

    it("rewardHead's mlp2 matches Linear, ReLU, Linear on the CPU", () => {
      const rows = 6, hidden = 96, outputs = 2;
      const x = randomArray(rows * hidden, 31, 1);
      const first = randomArray(hidden * hidden, 32, 0.2), firstBias = randomArray(hidden, 33, 0.1);
      const second = randomArray(outputs * hidden, 34, 0.2), secondBias = randomArray(outputs, 35, 0.1);
      const inner = cpu.gemm({ x, w: first, wDtype: 'F32', bias: firstBias, m: rows, n: hidden, k: hidden, precision: 'f32', isa: best, threads: 1 });
      for (let i = 0; i < inner.length; i++) inner[i] = Math.max(inner[i]!, 0);
      const want = cpu.gemm({ x: inner, w: second, wDtype: 'F32', bias: secondBias, m: rows, n: outputs, k: hidden, precision: 'f32', isa: best, threads: 1 });
      const got = s.rewardHead({ kind: 'mlp2', x, rows, hidden, outputs, first, firstBias, second, secondBias, wDtype: 'F32', precision: 'f32' });
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    });

    it('kvCopy copies the leading tokens of each page in every layer and leaves the rest', () => {
      const layers = 3, pagesTotal = 5, pageTokens = 4, kvHeads = 2, headDim = 8;
      const pool = randomArray(layers * 2 * pagesTotal * pageTokens * kvHeads * headDim, 51, 1);
      const src = Int32Array.from([1, 3]), dst = Int32Array.from([4, 0]), tokens = Int32Array.from([3, 4]);
      const got = s.kvCopy({ pool, layers, pagesTotal, pageTokens, kvHeads, headDim, src, dst, tokens });
      const want = pool.slice();
      const tokenFloats = kvHeads * headDim, pageFloats = pageTokens * tokenFloats;
      for (let plane = 0; plane < 2 * layers; plane++)
        for (let c = 0; c < src.length; c++)
          for (let e = 0; e < tokens[c]! * tokenFloats; e++)
            want[(plane * pagesTotal + dst[c]!) * pageFloats + e] = pool[(plane * pagesTotal + src[c]!) * pageFloats + e]!;
      expect(Array.from(got)).toEqual(Array.from(want));
    });

    describe('whole-model glue (ABI 2)', () => {
      it('embed upcasts the rows of the given tokens exactly, for every table dtype', () => {
        const vocab = 37, dim = 20;
        const table = randomArray(vocab * dim, 61, 2);
        const tokens = Int32Array.from([0, 36, 5, 5, 17]);
        for (const [dtype, bits, exact] of [
          ['F32', table, table],
          ['BF16', toBf16(table), bf16ToF32(toBf16(table))],
          ['F16', toF16(table), cpu.gemm({ x: Float32Array.of(1), w: toF16(table), wDtype: 'F16', m: 1, n: vocab * dim, k: 1, precision: 'f32', isa: best, threads: 1 })],
        ] as const) {
          const want = new Float32Array(tokens.length * dim);
          tokens.forEach((t, r) => want.set(exact.subarray(t * dim, (t + 1) * dim), r * dim));
          expect(Array.from(s.embed(bits, dtype, dim, tokens)), dtype).toEqual(Array.from(want));
        }
      });

      it('add is the elementwise f32 sum', () => {
        const x = randomArray(1001, 62, 4), y = randomArray(1001, 63, 4);
        expect(Array.from(s.add(x, y))).toEqual(Array.from(x, (v, i) => Math.fround(v + y[i]!)));
      });

      it('gatherRows copies the chosen rows, repeats included', () => {
        const dim = 9, src = randomArray(6 * dim, 64, 1);
        const rows = Int32Array.from([5, 0, 5, 2]);
        const want = new Float32Array(rows.length * dim);
        rows.forEach((r, i) => want.set(src.subarray(r * dim, (r + 1) * dim), i * dim));
        expect(Array.from(s.gatherRows(src, dim, rows))).toEqual(Array.from(want));
      });

      it('tokenLogprob gives log softmax at the token, with the CPU sampler\'s rules for inf and NaN rows', () => {
        const vocab = 111, rowsN = 6;
        const logits = randomArray(vocab * rowsN, 67, 6);
        logits.fill(-Infinity, 3 * vocab, 4 * vocab); // no mass anywhere
        logits[4 * vocab + 7] = Infinity; // one +inf token holds all the mass
        logits[4 * vocab + 9] = Infinity;
        logits[5 * vocab + 2] = NaN;
        const tokens = Int32Array.from([0, 110, 50, 4, 7, 1]);
        const got = s.tokenLogprob(logits, vocab, tokens);
        const row = (r: number) => Array.from(logits.subarray(r * vocab, (r + 1) * vocab));
        for (let r = 0; r < 3; r++) {
          const x = row(r), mx = Math.max(...x);
          const want = x[tokens[r]!]! - mx - Math.log(x.reduce((a, v) => a + Math.exp(v - mx), 0));
          expect(got[r]! - want, `row ${r}`).toBeCloseTo(0, 5);
        }
        expect(got[3]).toBe(-Infinity);
        expect(got[4]).toBeCloseTo(-Math.log(2), 6);
        expect(got[5]).toBeNaN();
      });

      it('kvWrite puts each row in its slot, rounded to bf16 as the CPU rounds', () => {
        const kvDim = 12, pages = 3, pageTokens = 4;
        const slots = Int32Array.from([0, 7, 11, 4]);
        const k = randomArray(slots.length * kvDim, 65, 3), v = randomArray(slots.length * kvDim, 66, 3);
        for (const kvDtype of ['F32', 'BF16'] as const) {
          const round = (a: Float32Array) => (kvDtype === 'F32' ? a : bf16ToF32(toBf16(a)));
          const want = (rows: Float32Array) => {
            const out = new Float32Array(pages * pageTokens * kvDim);
            slots.forEach((slot, r) => out.set(round(rows).subarray(r * kvDim, (r + 1) * kvDim), slot * kvDim));
            return Array.from(out);
          };
          const got = s.kvWrite({ k, v, kvDim, pages, pageTokens, slots, kvDtype });
          expect(Array.from(got.kPages), kvDtype).toEqual(want(k));
          expect(Array.from(got.vPages), kvDtype).toEqual(want(v));
        }
      });
    });
  });
}
