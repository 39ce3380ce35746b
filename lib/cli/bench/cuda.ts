/**
 * GPU benchmarks of the CUDA kernels (issue 7), run only where a usable GPU is found; elsewhere one
 * line says why they were skipped. Everything is a ratio measured in this run:
 *  - decode attention: effective bandwidth (bytes of bf16 K/V a decode step must read ÷ time) as a
 *    fraction of the measured device-to-device copy bandwidth, GQA 8:1 (32 query heads, 4 kv heads),
 *    head dim 128;
 *  - shared prefix: 128 sequences forked from a 16K-token prefix with 256 tokens each, one decode
 *    query per sequence, cascade split vs per-sequence attention;
 *  - sampling over a 151936-token vocabulary at batch 1 to 512, unfiltered and with top-k/top-p;
 *  - end to end (benchCudaModel): decode and a beam-search-shaped loop on a 0.5B-shaped model, the
 *    GPU backend against the CPU backend.
 * Host-side inputs are built once per shape; their size bounds the shapes (batch × context ≤ 256K).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import type { CudaProbeResult, NativeGenerateStepRequest, NativeModel, SeqId } from '../../native/addon-types.js';
import type { CudaAttentionArgs, CudaSession } from '../../native/kernel-types.js';
import { probeCuda } from '../../native/cuda.js';
import { openCudaSession } from '../../native/kernels.js';
import { nativeAddon } from '../../native/load.js';
import { QWEN25_05B, specFor, writeRandomCheckpoint, type ModelShape } from './random-model.js';

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
  const s: CudaSession = openCudaSession(probe.libraryPath, dev.index);
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

export interface CudaModelBenchResult {
  device: string;
  /** Decode throughput of B sequences forked from one prompt, generateStep end to end (sampling included). */
  decode: { batch: number; cpuTokensPerSecond: number; cudaTokensPerSecond: number; speedup: number }[];
  /** A beam-search-shaped loop in native calls: fork each beam, one step for every child, keep the best. */
  beam: { width: number; levels: number; cpuSecondsPerLevel: number; cudaSecondsPerLevel: number; speedup: number };
}

export interface CudaModelBenchOptions {
  /** The library and device to use. @default probeCuda() */
  probe?: CudaProbeResult;
  /** CPU threads of the CPU backend. @default os.availableParallelism() */
  threads?: number;
  /** A tiny model shape, for a smoke run against the CPU emulator build. @default false */
  small?: boolean;
}

/** A tiny shape with the 0.5B model's structure, for smoke runs on the emulator. */
const TINY_SHAPE: ModelShape = { hidden: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, intermediate: 128, vocab: 320 };

function stepRequest(seqs: Int32Array, maxTokens: number): NativeGenerateStepRequest {
  const n = seqs.length;
  return {
    seqs,
    maxTokens: new Int32Array(n).fill(maxTokens),
    temperature: new Float32Array(n).fill(0.8),
    topK: new Int32Array(n),
    topP: new Float32Array(n).fill(1),
    minP: new Float32Array(n),
    stop: [],
    stopAtEos: false,
  };
}

/** Tokens per second of generateStep over `batch` forks of `prompt`, `steps` tokens each. */
async function decodeRate(model: NativeModel, prompt: SeqId, batch: number, steps: number): Promise<number> {
  const seqs = model.forkMany(new Int32Array(batch).fill(prompt));
  try {
    await model.generateStep(stepRequest(seqs, 1)); // warm-up: buffers grow to this batch
    const t = performance.now();
    await model.generateStep(stepRequest(seqs, steps));
    return (batch * steps) / ((performance.now() - t) / 1e3);
  } finally {
    model.releaseMany(seqs);
  }
}

/** Seconds per level of a beam search of `width` beams, each expanded twice with `stepTokens` tokens. */
async function beamSecondsPerLevel(model: NativeModel, prompt: SeqId, width: number, levels: number, stepTokens: number): Promise<number> {
  let beams = model.forkMany(Int32Array.of(prompt));
  const t = performance.now();
  for (let level = 0; level < levels; level++) {
    const children = model.forkMany(Int32Array.from(Array.from(beams).flatMap((b) => [b, b])));
    model.releaseMany(beams);
    const res = await model.generateStep(stepRequest(children, stepTokens));
    // score: sum of the step's log-probabilities; the best `width` children become the beams
    const score = Array.from(children, (_, i) => {
      let sum = 0;
      for (let j = i * stepTokens; j < (i + 1) * stepTokens; j++) sum += res.logprobs[j]!;
      return sum;
    });
    const order = Array.from(children.keys()).sort((a, b) => score[b]! - score[a]!);
    beams = Int32Array.from(order.slice(0, width), (i) => children[i]!);
    model.releaseMany(Int32Array.from(order.slice(width), (i) => children[i]!));
  }
  const seconds = (performance.now() - t) / 1e3 / levels;
  model.releaseMany(beams);
  return seconds;
}

/**
 * End to end on a Qwen2.5-0.5B-shaped model with random BF16 weights: decode throughput and a
 * beam-search-shaped loop, the GPU backend (weights, KV and forward on the device, bf16) against the
 * CPU backend (its default precision) in the same run. Logs one line and returns null without a
 * usable GPU.
 */
export async function benchCudaModel(
  log: (line: string) => void = console.log,
  options: CudaModelBenchOptions = {},
): Promise<CudaModelBenchResult | null> {
  const probe = options.probe ?? probeCuda();
  if (!probe.available) {
    log(`cuda model: skipped (${probe.reason})`);
    return null;
  }
  const small = options.small ?? false;
  const threads = options.threads ?? os.availableParallelism();
  const shape = small ? TINY_SHAPE : QWEN25_05B;
  const batches = small ? [1, 3] : [1, 16, 64];
  const [steps, promptTokens, width, levels, stepTokens] = small ? [2, 8, 2, 2, 2] : [16, 64, 4, 4, 16];
  const dev = probe.devices.find((d) => d.supported)!;
  const addon = nativeAddon();
  const dir = mkdtempSync(path.join(tmpdir(), 'thinktree-bench-'));
  const file = path.join(dir, 'model.safetensors');
  try {
    const tensors = writeRandomCheckpoint(file, shape);
    const maxSeqs = Math.max(...batches, 2 * width);
    const tokensPerSeq = promptTokens + Math.max(steps + 1, levels * stepTokens) + 32;
    const kvCacheBytes = shape.layers * 2 * shape.kvHeads * shape.headDim * 4 * tokensPerSeq * (maxSeqs + 1);
    const measured: Record<'cpu' | 'cuda', { decode: number[]; beam: number }> = { cpu: { decode: [], beam: 0 }, cuda: { decode: [], beam: 0 } };
    for (const backend of ['cpu', 'cuda'] as const) {
      const precision = backend === 'cuda' || addon.kernels.cpuInfo().avx512bf16 ? 'bf16' : 'f32';
      const spec = specFor(file, tensors, shape, threads, precision, kvCacheBytes);
      if (backend === 'cuda') spec.device = { libraryPath: probe.libraryPath, index: dev.index };
      const model = await addon.loadModel(spec);
      try {
        const prompt = model.createSequence(1);
        model.appendTokens(prompt, Int32Array.from({ length: promptTokens }, (_, i) => (i * 7919) % 256));
        await model.forward(Int32Array.of(prompt), 'last');
        for (const batch of batches) measured[backend].decode.push(await decodeRate(model, prompt, batch, steps));
        measured[backend].beam = await beamSecondsPerLevel(model, prompt, width, levels, stepTokens);
        model.release(prompt);
      } finally {
        model.dispose();
      }
    }
    const decode = batches.map((batch, i) => {
      const cpu = measured.cpu.decode[i]!, cuda = measured.cuda.decode[i]!;
      return { batch, cpuTokensPerSecond: cpu, cudaTokensPerSecond: cuda, speedup: cuda / cpu };
    });
    const beam = { width, levels, cpuSecondsPerLevel: measured.cpu.beam, cudaSecondsPerLevel: measured.cuda.beam, speedup: measured.cpu.beam / measured.cuda.beam };
    log(`cuda model: ${small ? 'tiny' : 'Qwen2.5-0.5B'}-shaped random BF16 model on ${dev.name} vs the CPU backend (${threads} threads)`);
    for (const r of decode)
      log(`  decode batch ${r.batch}: ${r.cudaTokensPerSecond.toFixed(1)} tok/s on the GPU, ${r.cpuTokensPerSecond.toFixed(1)} on the CPU = ${r.speedup.toFixed(1)}×`);
    log(
      `  beam search (width ${width}, 2 children each, ${stepTokens}-token steps, ${levels} levels): ` +
        `${(beam.cudaSecondsPerLevel * 1e3).toFixed(1)} ms per level on the GPU, ${(beam.cpuSecondsPerLevel * 1e3).toFixed(1)} on the CPU = ${beam.speedup.toFixed(1)}×`,
    );
    return { device: dev.name, decode, beam };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
