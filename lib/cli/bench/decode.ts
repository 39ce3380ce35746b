/**
 * Decode benchmark on a Qwen2.5-0.5B-shaped model (hidden 896, 24 layers, 14 heads, 2 kv heads,
 * head dim 64, intermediate 4864, vocab 151936, tied embeddings, q/k/v bias) with random BF16
 * weights, written on the fly to a temporary safetensors file (about 1 GB, deleted afterwards).
 * Measures prefill of the prompt, then decode tokens/s at several batch sizes (B sequences forked
 * from the prompt, one forward over their 'last' rows per step) in both GEMM precisions, against
 * the memory-bandwidth bound of batch 1 (weight bytes read per step ÷ bandwidth). Then the same
 * checkpoint quantized on load (Q8_0, Q4_K: `weightTypes`) against BF16 at batch 1 and 16, each type
 * against its own bound (its weight bytes ÷ bandwidth). A shared host's bandwidth moves by 2× within
 * minutes, so each model's rows are bounded by the highest of the suite's figure and two measurements
 * taken right before and right after them: a fraction is never flattered by a bandwidth that had
 * dropped while the rows ran. Q4_K needs rows of whole 256-blocks: at this
 * shape only down_proj (k = 4864) has them, and every k = 896 matrix takes Q4_0 (NativeModelSpec.quantize).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NativeModel, PrecisionName, SeqId } from '../../native/addon-types.js';
import { quantDTypeName, type QuantType } from '../../models/quant/index.js';
import { nativeKernels } from '../../native/kernels.js';
import { nativeAddon } from '../../native/load.js';
import { greedyRequest } from './greedy.js';
import type { MachineLimits } from './machine.js';
import { QWEN25_05B, specFor, writeRandomCheckpoint, type ModelShape } from './random-model.js';
import { decodeStepBound, decodeStepFlops, prefillFlops } from './roofline.js';

export type { ModelShape } from './random-model.js';

export interface DecodeBenchOptions {
  threads: number;
  /** @default console.log */
  log?: (line: string) => void;
  /** @default [1, 4, 16, 64] */
  batches?: number[];
  /** @default ['f32', 'bf16'] */
  precisions?: PrecisionName[];
  /** @default 64 */
  promptTokens?: number;
  /**
   * Timed decode steps per batch size (after one warm-up step), the best of two runs; the weight types
   * run 3 × steps. 3 steps, once (the default until 2026-12-07), left a B = 16 row a 120 ms window on a
   * shared host. @default 8
   */
  steps?: number;
  /** Read bandwidth in GB/s for the batch-1 bound; measured with kernels.benchReadBandwidth when omitted. */
  bandwidthGBps?: number;
  /**
   * The machine's dot-product peaks, for the long prefill's fraction of peak and every batch's
   * fraction of the roofline bound; both are left out (NaN) without them.
   */
  peaks?: Pick<MachineLimits, 'fmaPeakF32' | 'fmaPeakBf16'>;
  /**
   * Prompt length of the long prefill, measured once per precision (after one untimed prefill of
   * another prompt of that length) against the peak. @default 512
   */
  longPrefillTokens?: number;
  /** Model shape; the default is Qwen2.5-0.5B's. */
  shape?: Partial<ModelShape>;
  /** Weight types compared at the fastest precision ('bf16': as stored). @default ['bf16', 'q8_0', 'q4_k'] */
  weightTypes?: Array<'bf16' | QuantType>;
  /** Batch sizes of the weight-type comparison. @default [1, 16] */
  weightTypeBatches?: number[];
}

/** One weight type of the comparison: its bytes per step, its batch-1 bound and what it reached. */
export interface DecodeWeightTypeRow {
  weights: 'bf16' | QuantType;
  weightBytes: number;
  /** Read bandwidth (GB/s) of this type's bound: the highest measured around its rows. */
  bandwidthGBps: number;
  /** bandwidth ÷ weightBytes (tokens/s at batch 1). */
  batch1BoundTokensPerSecond: number;
  rows: Array<{ batch: number; tokensPerSecond: number; /** tokens/s ÷ the batch-1 bound (batch 1: the bandwidth efficiency). */ ofBound: number }>;
}


export interface DecodeBenchRow {
  precision: PrecisionName;
  batch: number;
  /** Seconds per decode step (one token for each of `batch` sequences). */
  stepSeconds: number;
  /** Generated tokens per second over the whole batch. */
  tokensPerSecond: number;
  /** Read bandwidth (GB/s) of the bound: the highest measured around this precision's rows. */
  bandwidthGBps: number;
  /**
   * The roofline bound of the step (the longer of streaming the weights once at the measured
   * bandwidth and its arithmetic at the measured peak of this precision) ÷ the measured step.
   */
  ofRoofline: number;
}

export interface DecodeBenchResult {
  rows: DecodeBenchRow[];
  /** Prompt tokens per second, per precision. */
  prefill: Array<{ precision: PrecisionName; tokensPerSecond: number }>;
  /** The long prefill (longPrefillTokens from an empty cache), per precision: flops ÷ time ÷ the peak. */
  longPrefill: Array<{ precision: PrecisionName; tokens: number; tokensPerSecond: number; gflops: number; ofPeak: number }>;
  weightBytes: number;
  /** The highest read bandwidth (GB/s) measured in the suite. */
  bandwidthGBps: number;
  /** Batch-1 decode bound: bandwidth ÷ weight bytes (tokens/s). */
  batch1BoundTokensPerSecond: number;
  /** BF16 against the quantized types (`weightTypes`), each against its own bound. */
  weightTypes: DecodeWeightTypeRow[];
}

/**
 * Decode tokens/s of `batch` sequences forked from `prompt`: one greedy generateStep of `steps` tokens
 * after a one-token warm-up, the product's decode path (forward, sampling and the token's log-prob;
 * the logits never leave native memory).
 */
async function decodeRate(model: NativeModel, prompt: SeqId, batch: number, steps: number): Promise<number> {
  const seqs = model.forkMany(new Int32Array(batch).fill(prompt));
  try {
    await model.generateStep(greedyRequest(seqs, 1));
    const t = performance.now();
    await model.generateStep(greedyRequest(seqs, steps));
    return (batch * steps) / ((performance.now() - t) / 1e3);
  } finally {
    model.releaseMany(seqs);
  }
}

/** The faster of two decodeRate runs: other work on a shared host can only slow a run down. */
async function bestRate(model: NativeModel, prompt: SeqId, batch: number, steps: number): Promise<number> {
  return Math.max(await decodeRate(model, prompt, batch, steps), await decodeRate(model, prompt, batch, steps));
}

export async function benchDecode(opts: DecodeBenchOptions): Promise<DecodeBenchResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const shape = { ...QWEN25_05B, ...opts.shape };
  const batches = opts.batches ?? [1, 4, 16, 64];
  const precisions = opts.precisions ?? ['f32', 'bf16'];
  const promptTokens = opts.promptTokens ?? 64;
  const steps = opts.steps ?? 8;
  const addon = nativeAddon();
  const kernels = nativeKernels();
  // benchReadBandwidth belongs to the kernel bindings; a build without it leaves the bound unknown.
  const probe = (): number =>
    typeof kernels.benchReadBandwidth === 'function' ? kernels.benchReadBandwidth(1 << 30, opts.threads) : NaN;
  const suiteGBps = opts.bandwidthGBps ?? probe();
  let bandwidthGBps = suiteGBps; // the highest measured in the suite
  /** The bandwidth for rows measured between `before` and now: the highest of the three figures. */
  const near = (before: number): number => {
    const figures = [suiteGBps, before, probe()].filter(Number.isFinite);
    if (figures.length === 0) return NaN;
    const best = Math.max(...figures);
    bandwidthGBps = Number.isFinite(bandwidthGBps) ? Math.max(bandwidthGBps, best) : best;
    return best;
  };

  const dir = mkdtempSync(path.join(tmpdir(), 'thinktree-bench-'));
  const file = path.join(dir, 'model.safetensors');
  const t0 = performance.now();
  const tensors = writeRandomCheckpoint(file, shape);
  log(`wrote a random BF16 ${shape.layers}-layer checkpoint in ${((performance.now() - t0) / 1e3).toFixed(1)} s`);
  const typeBatches = opts.weightTypeBatches ?? [1, 16];
  const maxBatch = Math.max(...batches, ...typeBatches);
  const longTokens = opts.longPrefillTokens ?? 512;
  const peakOf = (p: PrecisionName) => (p === 'bf16' ? opts.peaks?.fmaPeakBf16 : opts.peaks?.fmaPeakF32) ?? NaN;
  // KV for the prompt once plus (3 · steps + 2) tokens for each sequence (the weight types run
  // 3 × steps), with room for page rounding; the long prefill runs after the decode rows have
  // released theirs.
  const kvBytesPerToken = shape.layers * 2 * shape.kvHeads * shape.headDim * 4;
  const kvPages = Math.max(maxBatch * (Math.ceil((3 * steps + 2) / 16) + 1), Math.ceil(longTokens / 16) + 1);
  const kvCacheBytes = kvBytesPerToken * 16 * (Math.ceil(promptTokens / 16) + kvPages + 4);

  const rows: DecodeBenchRow[] = [];
  const weightTypeRows: DecodeWeightTypeRow[] = [];
  const prefill: DecodeBenchResult['prefill'] = [];
  const longPrefill: DecodeBenchResult['longPrefill'] = [];
  let weightBytes = 0;
  try {
    for (const precision of precisions) {
      const model = await addon.loadModel(specFor(file, tensors, shape, opts.threads, precision, kvCacheBytes));
      try {
        weightBytes = model.info().weightBytes;
        const prompt = model.createSequence(1);
        model.appendTokens(prompt, Int32Array.from({ length: promptTokens }, (_, i) => (i * 7919) % 256));
        const t = performance.now();
        await model.forward(Int32Array.of(prompt), 'last');
        prefill.push({ precision, tokensPerSecond: promptTokens / ((performance.now() - t) / 1e3) });
        const before = probe();
        const rates: number[] = [];
        for (const batch of batches) rates.push(await bestRate(model, prompt, batch, steps));
        const bw = near(before);
        batches.forEach((batch, i) => {
          const tokensPerSecond = rates[i]!;
          const stepSeconds = batch / tokensPerSecond;
          // Context of a timed step: the prompt, the warm-up token and about half the timed ones.
          const flops = decodeStepFlops(shape, batch, promptTokens + 1 + Math.ceil(steps / 2));
          const bound = decodeStepBound(weightBytes, bw, flops, peakOf(precision));
          rows.push({ precision, batch, stepSeconds, tokensPerSecond, bandwidthGBps: bw, ofRoofline: bound / stepSeconds });
        });
        if (longTokens > 0) {
          // One untimed prefill of another prompt first (it shares no prefix with the timed one): the
          // first 512-row forward grows the activation workspaces and touches fresh KV pages, a
          // one-time cost of about 150 ms here that a serving process pays once, not per prompt.
          let seconds = 0;
          for (const first of [1, 0]) {
            const seq = model.createSequence(2);
            model.appendTokens(seq, Int32Array.from({ length: longTokens }, (_, i) => (i === 0 ? first : (i * 104729) % 256)));
            const tl = performance.now();
            await model.forward(Int32Array.of(seq), 'last');
            seconds = (performance.now() - tl) / 1e3;
            model.releaseMany(Int32Array.of(seq));
          }
          const gflops = prefillFlops(shape, longTokens) / seconds / 1e9;
          longPrefill.push({ precision, tokens: longTokens, tokensPerSecond: longTokens / seconds, gflops, ofPeak: gflops / peakOf(precision) });
        }
      } finally {
        model.dispose();
      }
    }
    // The weight types, at the fastest precision this host has for BF16 weights.
    const fastest: PrecisionName = precisions.includes('bf16') ? 'bf16' : precisions[0]!;
    for (const type of opts.weightTypes ?? ['bf16', 'q8_0', 'q4_k']) {
      const spec = specFor(file, tensors, shape, opts.threads, fastest, kvCacheBytes);
      if (type !== 'bf16') spec.quantize = quantDTypeName(type);
      const t = performance.now();
      const model = await addon.loadModel(spec);
      const loadSeconds = (performance.now() - t) / 1e3;
      try {
        const bytes = model.info().weightBytes;
        const prompt = model.createSequence(1);
        model.appendTokens(prompt, Int32Array.from({ length: promptTokens }, (_, i) => (i * 7919) % 256));
        await model.forward(Int32Array.of(prompt), 'last');
        const before = probe();
        // A quantized step at batch 1 takes a few ms: 3 × steps, so one hiccup of the host weighs less.
        const rates: number[] = [];
        for (const batch of typeBatches) rates.push(await bestRate(model, prompt, batch, 3 * steps));
        const bw = near(before);
        const bound = (bw * 1e9) / bytes;
        weightTypeRows.push({
          weights: type,
          weightBytes: bytes,
          bandwidthGBps: bw,
          batch1BoundTokensPerSecond: bound,
          rows: typeBatches.map((batch, i) => ({ batch, tokensPerSecond: rates[i]!, ofBound: rates[i]! / bound })),
        });
        if (type !== 'bf16') log(`quantized to ${type} on load in ${loadSeconds.toFixed(1)} s`);
      } finally {
        model.dispose();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const bound = (bandwidthGBps * 1e9) / weightBytes;
  log(`decode: Qwen2.5-0.5B shape, random BF16 weights (${(weightBytes / 1e9).toFixed(2)} GB read per step), prompt ${promptTokens}, ${opts.threads} threads`);
  for (const p of prefill) log(`prefill ${p.precision}: ${p.tokensPerSecond.toFixed(1)} tok/s`);
  for (const p of longPrefill)
    log(
      `prefill ${p.precision}, ${p.tokens} tokens: ${p.tokensPerSecond.toFixed(1)} tok/s, ${p.gflops.toFixed(1)} GFLOP/s = ` +
        `${(100 * p.ofPeak).toFixed(0)}% of the ${p.precision} peak`,
    );
  log('precision  batch   ms/step   tok/s (all sequences)   of roofline   at GB/s');
  for (const r of rows)
    log(
      `${r.precision.padEnd(9)} ${String(r.batch).padStart(6)} ${(r.stepSeconds * 1e3).toFixed(1).padStart(9)} ` +
        `${r.tokensPerSecond.toFixed(1).padStart(8)} ${(100 * r.ofRoofline).toFixed(0).padStart(26)}% ${r.bandwidthGBps.toFixed(1).padStart(9)}`,
    );
  log(
    Number.isFinite(bound)
      ? `batch-1 bound: ${bound.toFixed(1)} tok/s at ${bandwidthGBps.toFixed(1)} GB/s read bandwidth (the highest measured in the suite; each row's bound uses the highest measured around it)`
      : 'batch-1 bound: unknown (pass bandwidthGBps or build kernels.benchReadBandwidth)',
  );
  if (weightTypeRows.length > 0) {
    log('weights   GB/step   bound tok/s   batch   tok/s   of bound   at GB/s');
    for (const w of weightTypeRows)
      for (const r of w.rows)
        log(
          `${w.weights.padEnd(8)} ${(w.weightBytes / 1e9).toFixed(3).padStart(8)} ${w.batch1BoundTokensPerSecond.toFixed(1).padStart(13)} ` +
            `${String(r.batch).padStart(7)} ${r.tokensPerSecond.toFixed(1).padStart(7)} ${(100 * r.ofBound).toFixed(0).padStart(9)}% ${w.bandwidthGBps.toFixed(1).padStart(9)}`,
        );
  }
  return { rows, prefill, longPrefill, weightBytes, bandwidthGBps, batch1BoundTokensPerSecond: bound, weightTypes: weightTypeRows };
}
