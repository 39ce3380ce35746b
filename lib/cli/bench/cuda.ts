/**
 * GPU benchmarks of the CUDA kernels (issue 7), run only where a usable GPU is found; elsewhere one
 * line says why they were skipped. Everything is a ratio measured in this run:
 *  - decode attention: effective bandwidth (bytes of bf16 K/V a decode step must read ÷ time) as a
 *    fraction of the measured device-to-device copy bandwidth, GQA 8:1 (32 query heads, 4 kv heads),
 *    head dim 128;
 *  - shared prefix: 128 sequences forked from a 16K-token prefix with 256 tokens each, one decode
 *    query per sequence, cascade split vs per-sequence attention;
 *  - sampling over a 151936-token vocabulary at batch 1 to 512, unfiltered and with top-k/top-p.
 * Host-side inputs are built once per shape; their size bounds the shapes (batch × context ≤ 256K).
 */
import type { CudaAttentionArgs, CudaProbeResult, CudaSession } from '../../native/addon-types.js';
import { probeCuda } from '../../native/cuda.js';
import { nativeAddon } from '../../native/load.js';

export interface CudaBenchResult {
  device: string;
  copyGBps: number;
  decode: { batch: number; context: number; seconds: number; effectiveGBps: number; fraction: number }[];
  cascade: { perSequenceSeconds: number; sharedSeconds: number; speedup: number };
  sampling: { batch: number; filtered: boolean; seconds: number }[];
}

const H = 32, KVH = 4, D = 128, P = 16;

function fill(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** `batch` sequences of `own` tokens each after a `prefix` shared by all (0: independent sequences). */
function decodeArgs(batch: number, prefix: number, own: number, sharedPrefix: boolean): CudaAttentionArgs {
  const prefixPages = prefix / P, ownPages = Math.ceil(own / P);
  const pages = prefixPages + batch * ownPages;
  const indptr = new Int32Array(batch + 1);
  const indices = new Int32Array(batch * (prefixPages + ownPages));
  for (let s = 0, at = 0; s < batch; s++) {
    for (let j = 0; j < prefixPages; j++) indices[at++] = j;
    for (let j = 0; j < ownPages; j++) indices[at++] = prefixPages + s * ownPages + j;
    indptr[s + 1] = at;
  }
  const pageFloats = P * KVH * D;
  return {
    q: fill(batch * H * D, 1),
    kPages: fill(pages * pageFloats, 2),
    vPages: fill(pages * pageFloats, 3),
    kvDtype: 'BF16',
    pageTokens: P,
    numHeads: H,
    numKvHeads: KVH,
    headDim: D,
    pageIndptr: indptr,
    pageIndices: indices,
    seqLens: new Int32Array(batch).fill(prefix + own),
    queryIndptr: Int32Array.from({ length: batch + 1 }, (_, i) => i),
    slidingWindow: 0,
    sharedPrefix,
  };
}

/** Iterations so that one timing takes about `seconds`, from one timed call. */
function timed(run: (iterations: number) => number, seconds: number): number {
  const once = run(1);
  if (seconds <= 0) return once;
  const iterations = Math.max(1, Math.min(1000, Math.round(seconds / Math.max(once, 1e-6))));
  return run(iterations);
}

function sampleArgs(batch: number, vocab: number, filtered: boolean) {
  return {
    logits: fill(batch * vocab, 4).map((x) => 8 * x),
    rows: batch,
    vocab,
    temperature: new Float32Array(batch).fill(0.8),
    topK: new Int32Array(batch).fill(filtered ? 50 : 0),
    topP: new Float32Array(batch).fill(filtered ? 0.9 : 1),
    minP: new Float32Array(batch).fill(0),
    seeds: Float64Array.from({ length: batch }, (_, i) => i + 1),
    counters: new Uint32Array(batch),
  };
}

export interface CudaBenchOptions {
  /** Seconds to spend timing each shape (the iteration count is calibrated to it). @default 0.5 */
  seconds?: number;
  /** The library and device to use. @default probeCuda() (local build, then prebuilt) */
  probe?: CudaProbeResult;
  /** Tiny shapes, for a smoke run against the CPU emulator build. @default false */
  small?: boolean;
}

/** Runs the GPU benchmarks, or logs one line and returns null when there is no usable GPU. */
export function benchCuda(log: (line: string) => void = console.log, options: CudaBenchOptions = {}): CudaBenchResult | null {
  const seconds = options.seconds ?? 0.5;
  const small = options.small ?? false;
  const probe = options.probe ?? probeCuda();
  if (!probe.available) {
    log(`cuda: skipped (${probe.reason})`);
    return null;
  }
  const dev = probe.devices.find((d) => d.supported)!;
  const s: CudaSession = nativeAddon().cuda.open(probe.libraryPath, dev.index);
  try {
    const copyGBps = s.benchCopyBandwidth(small ? 1 << 20 : 1 << 30, small ? 2 : 20);
    log(`cuda: ${dev.name} (compute ${dev.computeCapability}), device-to-device copy ${copyGBps.toFixed(0)} GB/s (read + write)`);
    const decode: CudaBenchResult['decode'] = [];
    const decodeShapes = small ? [[1, 64], [2, 48]] : [[1, 512], [1, 16384], [16, 16384], [64, 4096], [256, 1024]];
    for (const [batch, context] of decodeShapes as [number, number][]) {
      const args = decodeArgs(batch, 0, context, false);
      const sec = timed((n) => s.benchAttention(args, n), seconds);
      const bytes = batch * context * KVH * D * 2 * 2;  // K and V, bf16
      const gbps = bytes / sec / 1e9;
      decode.push({ batch, context, seconds: sec, effectiveGBps: gbps, fraction: gbps / copyGBps });
      log(`  decode attention batch ${batch} context ${context}: ${(sec * 1e6).toFixed(0)} µs, ${gbps.toFixed(0)} GB/s = ${(100 * gbps / copyGBps).toFixed(0)}% of copy bandwidth`);
    }
    const [cb, cp, cs] = small ? [3, 64, 16] : [128, 16384, 256];
    const perSeq = timed((n) => s.benchAttention(decodeArgs(cb, cp, cs, false), n), seconds);
    const shared = timed((n) => s.benchAttention(decodeArgs(cb, cp, cs, true), n), seconds);
    log(`  shared prefix (batch ${cb}, prefix ${cp}, suffix ${cs}): cascade ${(shared * 1e3).toFixed(2)} ms vs per-sequence ${(perSeq * 1e3).toFixed(2)} ms = ${(perSeq / shared).toFixed(1)}×`);
    const sampling: CudaBenchResult['sampling'] = [];
    const vocab = small ? 1001 : 151936;
    for (const batch of small ? [1, 2] : [1, 8, 64, 512]) {
      for (const filtered of [false, true]) {
        const args = sampleArgs(batch, vocab, filtered);
        const sec = timed((n) => s.benchSample(args, n), seconds);
        sampling.push({ batch, filtered, seconds: sec });
        log(`  sampling vocab ${vocab} batch ${batch}${filtered ? ' top-k 50 top-p 0.9' : ''}: ${(sec * 1e6).toFixed(0)} µs (${(sec * 1e6 / batch).toFixed(1)} µs per row)`);
      }
    }
    return { device: dev.name, copyGBps, decode, cascade: { perSequenceSeconds: perSeq, sharedSeconds: shared, speedup: perSeq / shared }, sampling };
  } finally {
    s.dispose();
  }
}
