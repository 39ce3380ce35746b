/**
 * Shared-prefix (cascade) attention benchmark: 64 sequences forked from one 2048-token prompt, each
 * with 64 tokens of its own, one decode query per sequence, Qwen2.5-0.5B attention shape (14 query
 * heads, 2 kv heads, head dim 64). Times the attention kernel with the shared-prefix split on and
 * off; the ratio is the point (no absolute pass/fail).
 *
 * Both variants do the same arithmetic (every query against every key), so the split can only win what
 * the per-sequence kernel loses to loads: with the machine's FMA peak given, the report also says how
 * fast the split would be at that peak, the ceiling on its speedup on this machine.
 */
import type { AttentionArgs } from '../../native/kernel-types.js';
import { nativeKernels } from '../../native/kernels.js';

export interface SharedPrefixBenchOptions {
  /** Worker threads for the kernel. */
  threads: number;
  /** Receives the report lines. @default console.log */
  log?: (line: string) => void;
  /** @default 64 */
  sequences?: number;
  /** @default 2048 */
  prefixTokens?: number;
  /** @default 64 */
  ownTokens?: number;
  /** @default 16 */
  pageTokens?: number;
  /** Seconds to spend timing each variant (the iteration count is calibrated to it). @default 1 */
  seconds?: number;
  /** The machine's measured f32 FMA peak (GFLOP/s); adds the fraction of it and the speedup ceiling. */
  fmaPeakGflops?: number;
}

export interface SharedPrefixBenchRow {
  sharedPrefix: boolean;
  /** Seconds per attention call over the whole batch. */
  seconds: number;
  /** Bytes of K/V that per-sequence attention reads, divided by the time (GB/s). */
  effectiveGBps: number;
  /** Attention arithmetic (QK and PV products) divided by the time. */
  gflops: number;
}

export interface SharedPrefixBenchResult {
  rows: SharedPrefixBenchRow[];
  /** Time without the split ÷ time with it. */
  speedup: number;
  /** Bytes of K/V a per-sequence kernel must read for one call. */
  perSequenceKvBytes: number;
  /** Per-sequence time ÷ the time the arithmetic takes at the FMA peak; only with `fmaPeakGflops`. */
  speedupCeiling?: number;
  /** Per-sequence attention over f32 K/V ÷ over bf16 K/V (bf16 mode's KV cache: half the bytes read). */
  bf16KvSpeedup: number;
  /** Beam-shaped batch (beamTreeArgs): sharing only the first fork's pages ÷ sharing every level. */
  beamTreeSpeedup: number;
  /** Beam-shaped batch, every level shared: seconds per call over f32 K/V and over bf16 K/V (bf16 mode). */
  beamTreeSeconds: { f32: number; bf16: number };
}

/** Builds the batch: shared prefix pages first, then each sequence's own pages. */
export function sharedPrefixArgs(o: Required<Omit<SharedPrefixBenchOptions, 'log' | 'seconds' | 'fmaPeakGflops'>>, sharedPrefix: boolean): AttentionArgs {
  const H = 14, KVH = 2, D = 64, P = o.pageTokens;
  const prefixPages = Math.ceil(o.prefixTokens / P);
  if (o.prefixTokens % P !== 0) throw new RangeError(`Expected \`prefixTokens\` to be a multiple of pageTokens ${P}`);
  const ownPages = Math.ceil(o.ownTokens / P);
  const pages = prefixPages + o.sequences * ownPages;
  const pageFloats = P * KVH * D;
  // Cheap deterministic fill (values in [-1, 1)); content does not change the kernel's work.
  let x = 0x2545f491;
  const fill = (n: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      a[i] = (x >>> 0) / 2147483648 - 1;
    }
    return a;
  };
  const pageIndptr = new Int32Array(o.sequences + 1);
  const pageIndices = new Int32Array(o.sequences * (prefixPages + ownPages));
  let at = 0;
  for (let s = 0; s < o.sequences; s++) {
    for (let p = 0; p < prefixPages; p++) pageIndices[at++] = p;
    for (let p = 0; p < ownPages; p++) pageIndices[at++] = prefixPages + s * ownPages + p;
    pageIndptr[s + 1] = at;
  }
  return {
    q: fill(o.sequences * H * D),
    kPages: fill(pages * pageFloats),
    vPages: fill(pages * pageFloats),
    pageTokens: P,
    numHeads: H,
    numKvHeads: KVH,
    headDim: D,
    pageIndptr,
    pageIndices,
    seqLens: new Int32Array(o.sequences).fill(o.prefixTokens + o.ownTokens),
    queryIndptr: Int32Array.from({ length: o.sequences + 1 }, (_, i) => i),
    slidingWindow: 0,
    sharedPrefix,
    threads: o.threads,
  };
}

/**
 * A beam-shaped batch: a 2048-token question shared by 16 sequences, then three levels of 256-token
 * steps that split it in two each time (8, 4, then 2 sequences share each step), then 64 tokens of
 * each sequence's own: four levels of shared prefix, one decode query per sequence.
 */
export function beamTreeArgs(threads: number, cascadeLevels: number, pageTokens = 16): AttentionArgs {
  const H = 14, KVH = 2, D = 64, P = pageTokens;
  const sequences = 16;
  const levels = [{ tokens: 2048, share: 16 }, { tokens: 256, share: 8 }, { tokens: 256, share: 4 }, { tokens: 256, share: 2 }, { tokens: 64, share: 1 }];
  const tables: number[][] = Array.from({ length: sequences }, () => []);
  let pages = 0;
  for (const level of levels) {
    const n = level.tokens / P;
    for (let g = 0; g < sequences / level.share; g++) {
      const ids = Array.from({ length: n }, (_, i) => pages + i);
      pages += n;
      for (let s = g * level.share; s < (g + 1) * level.share; s++) tables[s]!.push(...ids);
    }
  }
  const tokens = levels.reduce((a, l) => a + l.tokens, 0);
  let x = 0x1b873593;
  const fill = (n: number) => Float32Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2147483648 - 1;
  });
  const pageIndptr = Int32Array.from({ length: sequences + 1 }, (_, i) => i * (tokens / P));
  return {
    q: fill(sequences * H * D),
    kPages: fill(pages * P * KVH * D),
    vPages: fill(pages * P * KVH * D),
    pageTokens: P,
    numHeads: H,
    numKvHeads: KVH,
    headDim: D,
    pageIndptr,
    pageIndices: Int32Array.from(tables.flat()),
    seqLens: new Int32Array(sequences).fill(tokens),
    queryIndptr: Int32Array.from({ length: sequences + 1 }, (_, i) => i),
    slidingWindow: 0,
    sharedPrefix: true,
    cascadeLevels,
    threads,
  };
}

export function benchSharedPrefixAttention(opts: SharedPrefixBenchOptions): SharedPrefixBenchResult {
  const log = opts.log ?? ((l: string) => console.log(l));
  const o = {
    threads: opts.threads,
    sequences: opts.sequences ?? 64,
    prefixTokens: opts.prefixTokens ?? 2048,
    ownTokens: opts.ownTokens ?? 64,
    pageTokens: opts.pageTokens ?? 16,
  };
  const seconds = opts.seconds ?? 1;
  const kernels = nativeKernels();
  const tokens = o.prefixTokens + o.ownTokens;
  const perSequenceKvBytes = o.sequences * tokens * 2 /* kv heads */ * 64 * 4 * 2; /* K and V, f32 */
  // q·k and p·v over every key, for each of the 14 query heads: 2 multiply-adds per head-dim element.
  const flops = o.sequences * 14 * tokens * 64 * 2 * 2;
  const rows: SharedPrefixBenchRow[] = [];
  for (const sharedPrefix of [false, true]) {
    const args = sharedPrefixArgs(o, sharedPrefix);
    const once = kernels.benchAttention(args, 1);
    const iterations = Math.max(3, Math.round(seconds / Math.max(once, 1e-6)));
    const t = kernels.benchAttention(args, iterations);
    rows.push({ sharedPrefix, seconds: t, effectiveGBps: perSequenceKvBytes / t / 1e9, gflops: flops / t / 1e9 });
  }
  const speedup = rows[0].seconds / rows[1].seconds;
  const bf16Args: AttentionArgs = { ...sharedPrefixArgs(o, false), kvDtype: 'bf16' };
  const bf16Once = kernels.benchAttention(bf16Args, 1);
  const bf16Seconds = kernels.benchAttention(bf16Args, Math.max(3, Math.round(seconds / Math.max(bf16Once, 1e-6))));
  const bf16KvSpeedup = rows[0].seconds / bf16Seconds;
  const timed = (args: AttentionArgs) => {
    const once = kernels.benchAttention(args, 1);
    return kernels.benchAttention(args, Math.max(3, Math.round(seconds / Math.max(once, 1e-6))));
  };
  const oneLevel = timed(beamTreeArgs(o.threads, 1));
  const allLevels = timed(beamTreeArgs(o.threads, 0));
  const beamTreeSpeedup = oneLevel / allLevels;
  const allLevelsBf16 = timed({ ...beamTreeArgs(o.threads, 0), kvDtype: 'bf16' });
  const peak = opts.fmaPeakGflops;
  const speedupCeiling = peak === undefined ? undefined : rows[0].seconds / (flops / (peak * 1e9));
  log(
    `shared-prefix attention: ${o.sequences} sequences × (${o.prefixTokens} shared + ${o.ownTokens} own) tokens, ` +
      `14 q / 2 kv heads, head dim 64, page ${o.pageTokens}, ${o.threads} threads`,
  );
  log('sharedPrefix   ms/call   effective GB/s (per-sequence K/V bytes / time)   GFLOP/s' + (peak === undefined ? '' : '   of FMA peak'));
  for (const r of rows) {
    const ofPeak = peak === undefined ? '' : `   ${((100 * r.gflops) / peak).toFixed(0).padStart(5)}%`;
    log(`${String(r.sharedPrefix).padEnd(12)} ${(r.seconds * 1e3).toFixed(3).padStart(9)}   ${r.effectiveGBps.toFixed(1).padStart(8)}` +
      `${' '.repeat(38)}${r.gflops.toFixed(1).padStart(7)}${ofPeak}`);
  }
  log(`speedup: ${speedup.toFixed(2)}× (K/V a per-sequence kernel reads: ${(perSequenceKvBytes / 1e6).toFixed(1)} MB)`);
  log(`bf16 KV cache, per-sequence: ${(bf16Seconds * 1e3).toFixed(3)} ms/call, ${bf16KvSpeedup.toFixed(2)}× the f32 K/V speed (half the bytes read)`);
  log(
    `beam-shaped batch (16 sequences, 2048-token question, 4 levels of shared prefix): first fork only ${(oneLevel * 1e3).toFixed(3)} ms, ` +
      `every level ${(allLevels * 1e3).toFixed(3)} ms: ${beamTreeSpeedup.toFixed(2)}×`,
  );
  log(`beam-shaped batch over a bf16 KV cache (bf16 mode), every level: ${(allLevelsBf16 * 1e3).toFixed(3)} ms`);
  if (speedupCeiling !== undefined) {
    log(`ceiling on this machine: ${speedupCeiling.toFixed(2)}× (per-sequence time ÷ the same arithmetic at the FMA peak)`);
  }
  const beamTreeSeconds = { f32: allLevels, bf16: allLevelsBf16 };
  return { rows, speedup, perSequenceKvBytes, bf16KvSpeedup, beamTreeSpeedup, beamTreeSeconds, ...(speedupCeiling === undefined ? {} : { speedupCeiling }) };
}
