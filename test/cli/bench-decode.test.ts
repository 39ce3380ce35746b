// The decode suite end to end on a small random model: every row it prints comes from greedy
// generateStep runs that produce tokens, and its ratios are the quotients of the figures it reports.
import { describe, expect, it } from 'vitest';
import { benchDecode } from '../../lib/cli/bench/decode.js';
import { nativeKernels } from '../../lib/native/kernels.js';

const shape = { hidden: 256, layers: 2, heads: 4, kvHeads: 2, headDim: 64, intermediate: 512, vocab: 1024 };

describe('bench decode', () => {
  it('reports every batch and weight type with ratios that follow from its own figures', async () => {
    const lines: string[] = [];
    const bf16 = nativeKernels().cpuInfo().avx512bf16;
    const r = await benchDecode({
      threads: 2,
      log: (l) => lines.push(l),
      batches: [1, 4],
      precisions: bf16 ? ['f32', 'bf16'] : ['f32'],
      promptTokens: 16,
      steps: 2,
      bandwidthGBps: 10,
      probeBytes: 64 << 20,
      peaks: { fmaPeakF32: 100, fmaPeakBf16: 200 },
      longPrefillTokens: 32,
      shape,
      weightTypes: ['bf16', 'q8_0', 'q4_k'],
      weightTypeBatches: [1, 4],
      callPatternSeconds: 0.05,
    });
    expect(r.rows.map((x) => `${x.precision}/${x.batch}`)).toEqual((bf16 ? ['f32', 'bf16'] : ['f32']).flatMap((p) => [`${p}/1`, `${p}/4`]));
    for (const row of r.rows) {
      expect(row.tokensPerSecond).toBeGreaterThan(0);
      expect(row.tokensPerSecond * row.stepSeconds).toBeCloseTo(row.batch, 6);
    }
    expect(lines.filter((l) => l.startsWith('decode: 2 layers, hidden 256, intermediate 512, vocab 1024, random BF16 weights ('))).toHaveLength(1);
    expect(r.weightTypes.map((w) => w.weights)).toEqual(['bf16', 'q8_0', 'q4_k']);
    const [b, q8, q4] = r.weightTypes;
    // Q8_0 is 34 bytes per 32 weights and Q4_K (Q4_0 where k = 256 is not whole super-blocks: none
    // here) at most 148 per 256, against BF16's 64 and 512: fewer bytes per step, so a higher bound.
    expect(q8!.weightBytes).toBeLessThan(0.6 * b!.weightBytes);
    expect(q4!.weightBytes).toBeLessThan(0.33 * b!.weightBytes);
    // Each bound takes the highest bandwidth of the given figure and the two measured around its rows
    // (batch 1: around its median run); the suite's figure is the highest measured anywhere.
    for (const row of r.rows) if (row.batch > 1) expect(row.bandwidthGBps).toBeGreaterThanOrEqual(10);
    expect(r.bandwidthGBps).toBeGreaterThanOrEqual(Math.max(...r.rows.map((x) => x.bandwidthGBps), ...r.weightTypes.map((w) => w.bandwidthGBps)));
    for (const w of r.weightTypes) {
      expect(w.bandwidthGBps).toBeGreaterThan(0);
      expect(w.batch1BoundTokensPerSecond).toBeCloseTo((w.bandwidthGBps * 1e9) / w.weightBytes, 6);
      for (const x of w.rows) {
        expect(x.tokensPerSecond).toBeGreaterThan(0);
        expect(x.ofBound).toBeCloseTo(x.tokensPerSecond / w.batch1BoundTokensPerSecond, 9);
      }
    }
    expect(lines.some((l) => l.startsWith('q4_k '))).toBe(true);
    // Each type's step replayed as reads: 4 or 7 GEMM calls a layer (packed or not) and the LM head.
    for (const w of r.weightTypes) {
      expect([2 * 4 + 1, 2 * 7 + 1]).toContain(w.callPattern!.calls);
      expect(Number.isFinite(w.callPattern!.ofWholeRead) && w.callPattern!.ofWholeRead > 0).toBe(true);
      const line = lines.find((l) => l.startsWith(`${w.weights}: its ${w.callPattern!.calls} GEMM calls' matrices read in one region per call`));
      expect(line).toContain(`${w.callPattern!.ofWholeRead.toFixed(2)}× one long read`);
      expect(line).toContain(`is ${(w.rows[0]!.ofBound / w.callPattern!.ofWholeRead).toFixed(2)}× that ceiling`);
    }
  }, 120_000);

  it('bounds batch 1 by the bandwidth measured around its own runs, not by the suite\'s figure', async () => {
    // Each measurement reads 1 GB/s more than the last: every run's higher neighbour is the one after
    // it, and the suite's given figure (10 000) is above them all.
    let calls = 0;
    const measured: number[] = [];
    const r = await benchDecode({
      threads: 2,
      log: () => {},
      batches: [1, 4],
      precisions: ['f32'],
      promptTokens: 16,
      steps: 2,
      bandwidthGBps: 10_000,
      measureBandwidth: () => {
        measured.push(100 + calls++);
        return measured.at(-1)!;
      },
      longPrefillTokens: 0,
      shape,
      weightTypes: ['q8_0'],
      weightTypeBatches: [1, 4],
      callPatternSeconds: 0,
    });
    // Per model: 4 measurements around batch 1's 3 runs, then 2 around the larger batches.
    expect(measured.length).toBe(12);
    const [one, four] = r.rows;
    expect([101, 102, 103]).toContain(one!.bandwidthGBps);
    expect(four!.bandwidthGBps).toBe(10_000);
    const q8 = r.weightTypes[0]!;
    expect([107, 108, 109]).toContain(q8.bandwidthGBps);
    expect(q8.callPattern).toBeUndefined(); // callPatternSeconds: 0
    expect(q8.rows[0]!.ofBound).toBeCloseTo((q8.rows[0]!.tokensPerSecond * q8.weightBytes) / (q8.bandwidthGBps * 1e9), 9);
    expect(r.bandwidthGBps).toBe(10_000);
  }, 120_000);

  it('reports the highest bandwidth it measured as the suite\'s figure', async () => {
    let calls = 0;
    const r = await benchDecode({
      threads: 2,
      log: () => {},
      batches: [1],
      precisions: ['f32'],
      promptTokens: 16,
      steps: 2,
      // 50, 90, 60, 40, ...: the second measurement, around batch 1's first run, is the highest.
      measureBandwidth: () => [50, 90, 60, 40, 40, 40, 40, 40][calls++] ?? 40,
      longPrefillTokens: 0,
      shape,
      weightTypes: [],
    });
    expect(calls).toBe(5); // the suite's and 4 around batch 1's runs (no larger batch to measure around)
    expect(r.bandwidthGBps).toBe(90);
    // The runs sit between 90 and 60, 60 and 40, 40 and 40: each bounded by the higher of its pair.
    expect([90, 60, 40]).toContain(r.rows[0]!.bandwidthGBps);
  }, 120_000);
});
