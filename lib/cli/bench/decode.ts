/**
 * Decode benchmark on a Qwen2.5-0.5B-shaped model (hidden 896, 24 layers, 14 heads, 2 kv heads,
 * head dim 64, intermediate 4864, vocab 151936, tied embeddings, q/k/v bias) with random BF16
 * weights, written on the fly to a temporary safetensors file (about 1 GB, deleted afterwards).
 * Measures prefill of the prompt, then decode tokens/s at several batch sizes (B sequences forked
 * from the prompt, one forward over their 'last' rows per step) in both GEMM precisions, against
 * the memory-bandwidth bound of batch 1 (weight bytes read per step ÷ bandwidth). Then the same
 * checkpoint quantized on load (Q8_0, Q4_K: `weightTypes`) against BF16 at batch 1 and 16, each type
 * against its own bound (its weight bytes ÷ bandwidth). A shared host's bandwidth moves by 2× within
 * seconds, so batch 1, the row bound by bandwidth alone, runs 3 times, each between two bandwidth
 * measurements, and reports the median run against the higher of its two: a run is judged by the
 * bandwidth of its own moment, neither by one the host had lost minutes before (a suite-wide figure
 * put one run at 62% of its bound while a profile of the same step a minute later read 96%) nor by a
 * dip it did not see. Larger batches are bounded by the highest of the suite's figure and two
 * measurements right before and after their rows. Q4_K needs rows of whole 256-blocks: at this
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
import { describeShape, QWEN25_05B, specFor, writeRandomCheckpoint, type ModelShape } from './random-model.js';
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
  /**
   * Read bandwidth in GB/s, the suite's figure (measured once when omitted): a floor under the bounds of
   * batches above 1 (the figures measured with kernels.benchReadBandwidth around their rows count where
   * higher), and batch 1's bound only where no measurement can be made.
   */
  bandwidthGBps?: number;
  /** Bytes each bandwidth measurement reads (far past the caches). @default 1 GiB */
  probeBytes?: number;
  /** Measures the read bandwidth in GB/s. @default kernels.benchReadBandwidth(probeBytes, threads) */
  measureBandwidth?: () => number;
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
  /**
   * Seconds of each weight type's call-pattern read (kernels.benchReadCalls over the model's
   * stepGemmBytes, after the model is released); 0 skips it. @default 1
   */
  callPatternSeconds?: number;
}

/**
 * What a batch-1 step's call pattern alone costs the memory system: the step's weight matrices read in
 * one parallel region per GEMM call, as the step reads them, against one long read of the same bytes
 * (pass by pass in turn, no arithmetic).
 */
export interface DecodeCallPattern {
  /** GEMM calls per step (NativeModelInfo.stepGemmBytes). */
  calls: number;
  /** GB/s of the reads in calls ÷ GB/s of the long read. */
  ofWholeRead: number;
}

/** One weight type of the comparison: its bytes per step, its batch-1 bound and what it reached. */
export interface DecodeWeightTypeRow {
  weights: 'bf16' | QuantType;
  weightBytes: number;
  /**
   * Read bandwidth (GB/s) of this type's bound: that of batch 1's median run (the higher of the two
   * measured around it); without a batch-1 row, the highest measured around the rows.
   */
  bandwidthGBps: number;
  /** bandwidth ÷ weightBytes (tokens/s at batch 1). */
  batch1BoundTokensPerSecond: number;
  rows: Array<{ batch: number; tokensPerSecond: number; /** tokens/s ÷ the batch-1 bound (batch 1: the bandwidth efficiency). */ ofBound: number }>;
  /** Absent where the build or the device cannot measure it, or callPatternSeconds is 0. */
  callPattern?: DecodeCallPattern;
}


export interface DecodeBenchRow {
  precision: PrecisionName;
  batch: number;
  /** Seconds per decode step (one token for each of `batch` sequences). */
  stepSeconds: number;
  /** Generated tokens per second over the whole batch. */
  tokensPerSecond: number;
  /**
   * Read bandwidth (GB/s) of the bound. Batch 1: that of its median run (the higher of the two measured
   * around it); larger batches: the highest of the suite's and those measured around their rows.
   */
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

/** One batch-1 run against the read bandwidth of its moment (the higher of the probes around it). */
interface PairedRun {
  tokensPerSecond: number;
  bandwidthGBps: number;
  /** tokens/s × weight bytes ÷ bandwidth: the run's fraction of the batch-1 bound. */
  ofBound: number;
}

/**
 * Batch-1 decode `runs` times, each between two bandwidth probes (one probe shared by neighbouring
 * runs): the median run by its fraction of the bound from the higher of its two probes. Without a
 * probe the bound is `fallback` (the suite's figure).
 */
async function pairedBatch1(
  model: NativeModel,
  prompt: SeqId,
  steps: number,
  weightBytes: number,
  probe: () => number,
  fallback: number,
  runs = 3,
): Promise<PairedRun> {
  let before = probe();
  const done: PairedRun[] = [];
  for (let i = 0; i < runs; i++) {
    const tokensPerSecond = await decodeRate(model, prompt, 1, steps);
    const after = probe();
    const figures = [before, after].filter(Number.isFinite);
    const bandwidthGBps = figures.length > 0 ? Math.max(...figures) : fallback;
    done.push({ tokensPerSecond, bandwidthGBps, ofBound: (tokensPerSecond * weightBytes) / (bandwidthGBps * 1e9) });
    before = after;
  }
  // By fraction of the bound; by speed where no bandwidth is known.
  const key = (r: PairedRun) => (Number.isFinite(r.ofBound) ? r.ofBound : r.tokensPerSecond);
  done.sort((a, b) => key(a) - key(b));
  return done[done.length >> 1]!;
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
  const measure =
    opts.measureBandwidth ??
    ((): number =>
      typeof kernels.benchReadBandwidth === 'function' ? kernels.benchReadBandwidth(opts.probeBytes ?? 1 << 30, opts.threads) : NaN);
  let bandwidthGBps = NaN; // the highest measured in the suite (or given)
  const keep = (gbps: number): number => {
    if (Number.isFinite(gbps)) bandwidthGBps = Number.isFinite(bandwidthGBps) ? Math.max(bandwidthGBps, gbps) : gbps;
    return gbps;
  };
  /** One bandwidth measurement, kept in the suite's highest. */
  const probe = (): number => keep(measure());
  const suiteGBps = keep(opts.bandwidthGBps ?? probe());

  /**
   * Tokens/s of each batch size in `list` and the bandwidth of its bound: batch 1 paired with its
   * probes (pairedBatch1), larger batches the best of two runs, bounded by the highest of the suite's
   * figure and the probes right before and after them.
   */
  const timeBatches = async (model: NativeModel, prompt: SeqId, list: number[], stepsPerRun: number, bytes: number) => {
    const one = list.includes(1) ? await pairedBatch1(model, prompt, stepsPerRun, bytes, probe, suiteGBps) : null;
    const larger = list.some((b) => b !== 1);
    const before = larger ? probe() : NaN;
    const rates: number[] = [];
    for (const batch of list) rates.push(batch === 1 ? one!.tokensPerSecond : await bestRate(model, prompt, batch, stepsPerRun));
    const figures = larger ? [suiteGBps, before, probe()].filter(Number.isFinite) : [];
    const around = figures.length > 0 ? Math.max(...figures) : NaN;
    return list.map((batch, i) => ({ batch, tokensPerSecond: rates[i]!, bandwidthGBps: batch === 1 ? one!.bandwidthGBps : around }));
  };

  const patternSeconds = opts.callPatternSeconds ?? 1;
  const measureCallPattern = (calls: number[] | undefined): DecodeCallPattern | undefined => {
    if (calls === undefined || calls.length === 0 || patternSeconds <= 0 || typeof kernels.benchReadCalls !== 'function') return undefined;
    const r = kernels.benchReadCalls(calls, opts.threads, patternSeconds);
    return { calls: calls.length, ofWholeRead: r.callsGBps / r.wholeGBps };
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
        for (const { batch, tokensPerSecond, bandwidthGBps } of await timeBatches(model, prompt, batches, steps, weightBytes)) {
          const stepSeconds = batch / tokensPerSecond;
          // Context of a timed step: the prompt, the warm-up token and about half the timed ones.
          const flops = decodeStepFlops(shape, batch, promptTokens + 1 + Math.ceil(steps / 2));
          const bound = decodeStepBound(weightBytes, bandwidthGBps, flops, peakOf(precision));
          rows.push({ precision, batch, stepSeconds, tokensPerSecond, bandwidthGBps, ofRoofline: bound / stepSeconds });
        }
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
      let stepGemmBytes: number[] | undefined;
      try {
        stepGemmBytes = model.info().stepGemmBytes;
        const bytes = model.info().weightBytes;
        const prompt = model.createSequence(1);
        model.appendTokens(prompt, Int32Array.from({ length: promptTokens }, (_, i) => (i * 7919) % 256));
        await model.forward(Int32Array.of(prompt), 'last');
        // A quantized step at batch 1 takes a few ms: 3 × steps, so one hiccup of the host weighs less.
        // The bound is batch 1's (paired with its probes) where batch 1 runs, else the rows'.
        const timed = await timeBatches(model, prompt, typeBatches, 3 * steps, bytes);
        const bw = (timed.find((r) => r.batch === 1) ?? timed[0])?.bandwidthGBps ?? NaN;
        const bound = (bw * 1e9) / bytes;
        weightTypeRows.push({
          weights: type,
          weightBytes: bytes,
          bandwidthGBps: bw,
          batch1BoundTokensPerSecond: bound,
          rows: timed.map(({ batch, tokensPerSecond }) => ({ batch, tokensPerSecond, ofBound: tokensPerSecond / bound })),
        });
        if (type !== 'bf16') log(`quantized to ${type} on load in ${loadSeconds.toFixed(1)} s`);
      } finally {
        model.dispose();
      }
      // Measured with the model released, so the copy of its bytes never doubles the memory in use.
      const pattern = measureCallPattern(stepGemmBytes);
      if (pattern) weightTypeRows.at(-1)!.callPattern = pattern;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const bound = (bandwidthGBps * 1e9) / weightBytes;
  log(`decode: ${describeShape(shape)}, random BF16 weights (${(weightBytes / 1e9).toFixed(2)} GB read per step), prompt ${promptTokens}, ${opts.threads} threads`);
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
      ? `batch-1 bound: ${bound.toFixed(1)} tok/s at ${bandwidthGBps.toFixed(1)} GB/s read bandwidth (the highest measured in the suite); ` +
          `each batch-1 row is the median of 3 runs against the bandwidth measured around each, larger batches use the highest measured around their rows`
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
    for (const w of weightTypeRows) {
      if (!w.callPattern) continue;
      const one = w.rows.find((r) => r.batch === 1);
      log(
        `${w.weights}: its ${w.callPattern.calls} GEMM calls' matrices read in one region per call (no arithmetic) at ` +
          `${w.callPattern.ofWholeRead.toFixed(2)}× one long read of the same bytes` +
          (one ? `; batch 1 at ${(100 * one.ofBound).toFixed(0)}% of its bound is ${(one.ofBound / w.callPattern.ofWholeRead).toFixed(2)}× that ceiling` : ''),
      );
    }
  }
  return { rows, prefill, longPrefill, weightBytes, bandwidthGBps, batch1BoundTokensPerSecond: bound, weightTypes: weightTypeRows };
}
