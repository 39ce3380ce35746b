import type { IsaName, PrecisionName } from '../../native/addon-types.js';
import { nativeKernels } from '../../native/kernels.js';
import { measureMachine, type MachineLimits } from './machine.js';

/** One measured GEMM shape: y[m, n] = x[m, k] · w[n, k]ᵀ with BF16 weights. */
export interface GemmBenchRow {
  /** Tokens in the batch (rows of x). */
  m: number;
  n: number;
  k: number;
  precision: PrecisionName;
  /** W packed by 16 rows (packed_weights.h), as a CPU model at precision 'bf16' holds it. */
  packed: boolean;
  isa: IsaName;
  threads: number;
  secondsPerCall: number;
  /** 2·m·n·k / secondsPerCall, in 1e9 flop/s. */
  gflops: number;
  /** gflops over the measured peak of the arithmetic this precision uses on this ISA. */
  peakFraction: number;
  /** m = 1 only: bytes moved (weights, x, y) per second in GB/s; decode is bound by this. */
  effectiveGBs?: number;
  /** m = 1 only: effectiveGBs over the measured read bandwidth. */
  bandwidthFraction?: number;
}

export interface BenchGemmOptions {
  threads: number;
  log: (line: string) => void;
  /** Kernel variant. @default the best the host supports */
  isa?: IsaName;
  /** Limits to compare against; measured first when omitted. */
  machine?: MachineLimits;
  /**
   * Batch sizes (tokens) to measure.
   * @default [1, 16, 64]
   */
  tokens?: number[];
  /**
   * Timed runs per row (each calibrated to at least 0.2 s); the fastest is kept.
   * @default 3
   */
  repeats?: number;
}

/** The MLP projections of Qwen2.5-0.5B (hidden 896, intermediate 4864): gate/up, then down. */
export const QWEN25_05B_MLP_SHAPES: readonly { n: number; k: number }[] = [
  { n: 4864, k: 896 },
  { n: 896, k: 4864 },
];

function randomBf16(count: number): Uint16Array {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    f[0] = (Math.random() * 2 - 1) * 0.05;
    out[i] = u[0] >>> 16;
  }
  return out;
}

function randomF32(count: number): Float32Array {
  return Float32Array.from({ length: count }, () => Math.random() * 2 - 1);
}

const pct = (f: number): string => `${(100 * f).toFixed(0)}%`;

/**
 * Times the Qwen2.5-0.5B MLP shapes for each batch size and both precisions, and reports each as a
 * fraction of the machine's measured limits: the FMA peak, and for one token the read bandwidth
 * (benchGemm rotates through copies of the weights wider than the caches, as a forward pass does).
 */
export async function benchGemmShapes(opts: BenchGemmOptions): Promise<GemmBenchRow[]> {
  const { threads, log } = opts;
  if (!Number.isInteger(threads) || threads < 1) throw new TypeError(`Expected \`threads\` to be a positive integer, got ${threads}`);
  const kernels = nativeKernels();
  const isa = opts.isa ?? kernels.cpuInfo().bestIsa;
  const tokens = opts.tokens ?? [1, 16, 64];
  const repeats = opts.repeats ?? 3;
  const machine = opts.machine ?? (await measureMachine(threads));
  // The AVX2 kernels on an AVX-512 host run against the ymm FMA peak, measured here with AVX2 loops
  // (the best of `repeats`), not against the host's zmm figure.
  let f32Peak = machine.fmaPeakF32;
  if (isa === 'avx2' && kernels.cpuInfo().bestIsa !== 'avx2') {
    f32Peak = 0;
    for (let r = 0; r < repeats; r++) f32Peak = Math.max(f32Peak, kernels.benchFmaPeak('f32', threads, 'avx2'));
    log(`AVX2 code path on this ${kernels.cpuInfo().bestIsa} host: AVX2 (ymm) FMA peak ${f32Peak.toFixed(1)} GFLOP/s`);
  }
  log(
    `machine (${threads} threads): f32 FMA peak ${machine.fmaPeakF32.toFixed(1)} GFLOP/s, ` +
      `bf16 peak ${machine.fmaPeakBf16.toFixed(1)} GFLOP/s, read bandwidth ${machine.readBandwidth.toFixed(1)} GB/s`,
  );
  log(`gemm, BF16 weights, isa ${isa}`);
  log('tokens      n      k  precision   ms/call   GFLOP/s  of peak    GB/s  of bandwidth   (pk: packed W)');

  const rows: GemmBenchRow[] = [];
  for (const { n, k } of QWEN25_05B_MLP_SHAPES) {
    const w = randomBf16(n * k);
    for (const m of tokens) {
      const x = randomF32(m * k);
      // f32 and bf16 on the rows as stored, and bf16 on packed rows where its kernel runs.
      const variants: [PrecisionName, boolean][] = [['f32', false], ['bf16', false]];
      if (isa === 'avx512bf16') variants.push(['bf16', true]);
      for (const [precision, packed] of variants) {
        let seconds = Infinity;
        for (let r = 0; r < repeats; r++) {
          seconds = Math.min(seconds, kernels.benchGemm({ x, w, wDtype: 'BF16', m, n, k, precision, isa, threads, packed }, 3));
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        const gflops = (2 * m * n * k) / seconds / 1e9;
        const peak = precision === 'bf16' && isa === 'avx512bf16' ? machine.fmaPeakBf16 : f32Peak;
        const row: GemmBenchRow = { m, n, k, precision, packed, isa, threads, secondsPerCall: seconds, gflops, peakFraction: gflops / peak };
        if (m === 1) {
          row.effectiveGBs = (n * k * 2 + m * k * 4 + m * n * 4) / seconds / 1e9;
          row.bandwidthFraction = row.effectiveGBs / machine.readBandwidth;
        }
        rows.push(row);
        log(
          `${String(m).padStart(6)} ${String(n).padStart(6)} ${String(k).padStart(6)}  ${(packed ? `${precision} pk` : precision).padEnd(9)} ` +
            `${(seconds * 1e3).toFixed(3).padStart(9)} ${gflops.toFixed(1).padStart(9)} ${pct(row.peakFraction).padStart(8)} ` +
            (row.effectiveGBs === undefined
              ? ''
              : `${row.effectiveGBs.toFixed(1).padStart(7)} ${pct(row.bandwidthFraction ?? 0).padStart(13)}`),
        );
      }
    }
  }
  return rows;
}
