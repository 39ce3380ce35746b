/**
 * Decode benchmark on a Qwen2.5-0.5B-shaped model (hidden 896, 24 layers, 14 heads, 2 kv heads,
 * head dim 64, intermediate 4864, vocab 151936, tied embeddings, q/k/v bias) with random BF16
 * weights, written on the fly to a temporary safetensors file (about 1 GB, deleted afterwards).
 * Measures prefill of the prompt, then decode tokens/s at several batch sizes (B sequences forked
 * from the prompt, one forward over their 'last' rows per step) in both GEMM precisions, against
 * the memory-bandwidth bound of batch 1 (weight bytes read per step ÷ bandwidth).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PrecisionName, SeqId } from '../../native/addon-types.js';
import { nativeKernels } from '../../native/kernels.js';
import { nativeAddon } from '../../native/load.js';
import { QWEN25_05B, specFor, writeRandomCheckpoint, type ModelShape } from './random-model.js';

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
  /** Timed decode steps per batch size (after one warm-up step). @default 3 */
  steps?: number;
  /** Read bandwidth in GB/s for the batch-1 bound; measured with kernels.benchReadBandwidth when omitted. */
  bandwidthGBps?: number;
  /** Model shape; the default is Qwen2.5-0.5B's. */
  shape?: Partial<ModelShape>;
}


export interface DecodeBenchRow {
  precision: PrecisionName;
  batch: number;
  /** Seconds per decode step (one token for each of `batch` sequences). */
  stepSeconds: number;
  /** Generated tokens per second over the whole batch. */
  tokensPerSecond: number;
}

export interface DecodeBenchResult {
  rows: DecodeBenchRow[];
  /** Prompt tokens per second, per precision. */
  prefill: Array<{ precision: PrecisionName; tokensPerSecond: number }>;
  weightBytes: number;
  bandwidthGBps: number;
  /** Batch-1 decode bound: bandwidth ÷ weight bytes (tokens/s). */
  batch1BoundTokensPerSecond: number;
}

export async function benchDecode(opts: DecodeBenchOptions): Promise<DecodeBenchResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const shape = { ...QWEN25_05B, ...opts.shape };
  const batches = opts.batches ?? [1, 4, 16, 64];
  const precisions = opts.precisions ?? ['f32', 'bf16'];
  const promptTokens = opts.promptTokens ?? 64;
  const steps = opts.steps ?? 3;
  const addon = nativeAddon();
  const kernels = nativeKernels();
  // benchReadBandwidth belongs to the kernel bindings; a build without it leaves the bound unknown.
  const bandwidthGBps =
    opts.bandwidthGBps ??
    (typeof kernels.benchReadBandwidth === 'function' ? kernels.benchReadBandwidth(1 << 30, opts.threads) : NaN);

  const dir = mkdtempSync(path.join(tmpdir(), 'thinktree-bench-'));
  const file = path.join(dir, 'model.safetensors');
  const t0 = performance.now();
  const tensors = writeRandomCheckpoint(file, shape);
  log(`wrote a random BF16 ${shape.layers}-layer checkpoint in ${((performance.now() - t0) / 1e3).toFixed(1)} s`);
  const maxBatch = Math.max(...batches);
  // KV for the prompt once plus (steps + 2) tokens for each sequence, with room for page rounding.
  const kvBytesPerToken = shape.layers * 2 * shape.kvHeads * shape.headDim * 4;
  const kvCacheBytes = kvBytesPerToken * 16 * (Math.ceil(promptTokens / 16) + maxBatch * (Math.ceil((steps + 2) / 16) + 1) + 4);

  const rows: DecodeBenchRow[] = [];
  const prefill: DecodeBenchResult['prefill'] = [];
  let weightBytes = 0;
  try {
    for (const precision of precisions) {
      const model = await addon.loadModel(specFor(file, tensors, shape, opts.threads, precision, kvCacheBytes));
      try {
        weightBytes = model.info().weightBytes;
        const prompt = model.createSequence(1);
        model.appendTokens(prompt, Int32Array.from({ length: promptTokens }, (_, i) => (i * 7919) % 256));
        let t = performance.now();
        await model.forward(Int32Array.of(prompt), 'last');
        prefill.push({ precision, tokensPerSecond: promptTokens / ((performance.now() - t) / 1e3) });
        for (const batch of batches) {
          const seqs = model.forkMany(new Int32Array(batch).fill(prompt));
          const next = Int32Array.of(1);
          let elapsed = 0;
          for (let step = 0; step <= steps; step++) {
            for (const s of seqs) model.appendTokens(s as SeqId, next);
            t = performance.now();
            await model.forward(seqs, 'last');
            if (step > 0) elapsed += performance.now() - t; // step 0 warms up
          }
          const stepSeconds = elapsed / 1e3 / steps;
          rows.push({ precision, batch, stepSeconds, tokensPerSecond: batch / stepSeconds });
          model.releaseMany(seqs);
        }
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
  log('precision  batch   ms/step   tok/s (all sequences)');
  for (const r of rows)
    log(`${r.precision.padEnd(9)} ${String(r.batch).padStart(6)} ${(r.stepSeconds * 1e3).toFixed(1).padStart(9)} ${r.tokensPerSecond.toFixed(1).padStart(8)}`);
  log(
    Number.isFinite(bound)
      ? `batch-1 bound: ${bound.toFixed(1)} tok/s at ${bandwidthGBps.toFixed(1)} GB/s read bandwidth`
      : 'batch-1 bound: unknown (pass bandwidthGBps or build kernels.benchReadBandwidth)',
  );
  return { rows, prefill, weightBytes, bandwidthGBps, batch1BoundTokensPerSecond: bound };
}
