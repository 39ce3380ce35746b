/**
 * Where a decode step's time goes (`thinktree bench --only profile [--weights q4_k]`): the random
 * Qwen2.5-0.5B-shaped model (random-model.ts, BF16 or quantized on load) with a vocabulary-sized
 * stand-in tokenizer, B sequences forked from a shared prompt, greedy generateStep calls (the
 * product's decode path: forward, sampling and log-probs over the whole vocabulary, stop-string
 * checks). The native profile (runtime/profile.h) splits the native
 * time per operation class; the pool's waiting and the native bookkeeping between operations are rows
 * of their own, and the rest of the measured wall time is N-API and JavaScript, so each column adds up
 * to the measured step time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NativeModelSpec, NativeProfile, PrecisionName, ProfileOp } from '../../native/addon-types.js';
import { nativeAddon } from '../../native/load.js';
import { quantDTypeName, type QuantType } from '../../models/quant/index.js';
import { greedyRequest } from './greedy.js';
import type { MachineLimits } from './machine.js';
import { describeShape, QWEN25_05B, specFor, writeRandomCheckpoint, type ModelShape } from './random-model.js';
import { decodeGemmFlops, decodeStepBound, decodeStepFlops } from './roofline.js';

export interface ProfileBenchOptions {
  threads: number;
  log?: (line: string) => void;
  /** @default [1, 16, 64] */
  batches?: number[];
  /** @default 'bf16' */
  precision?: PrecisionName;
  /** The weights: the BF16 checkpoint as written, or quantized on load. @default 'bf16' */
  weights?: 'bf16' | QuantType;
  /** Shared prompt length. @default 256 */
  promptTokens?: number;
  /** Tokens generated per sequence in the timed call (after a 2-token warm-up call). @default 16 */
  tokens?: number;
  shape?: Partial<ModelShape>;
  /**
   * Also profile batch 1 with a thread pool that sleeps at once (THINKTREE_POOL_SPIN_US=0, the pool
   * before it learned to spin), for the ratio. @default true
   */
  compareSpin?: boolean;
  /** The machine's limits, for each column's GEMM fraction of the peak and roofline fraction. */
  machine?: MachineLimits;
}

export interface ProfileBenchResult {
  columns: ProfileColumn[];
  /** Per column (same order), against the machine's limits; empty without `machine`. */
  limits: ProfileLimits[];
  /** Batch 1 with a pool that never spins; null when not measured. */
  noSpin: ProfileColumn | null;
}

/** One column's step against the machine (roofline.ts). */
export interface ProfileLimits {
  batch: number;
  /** The projections and the LM head: their flops ÷ their time ÷ the precision's dot peak. */
  gemmOfPeak: number;
  /** Measured step ÷ the time of its GEMMs (projections and LM head). */
  stepOverGemm: number;
  /** The step's roofline bound ÷ the measured step. */
  ofRoofline: number;
}

/** One batch size's step, in milliseconds per decode step, by row of the table. */
export interface ProfileColumn {
  batch: number;
  stepMs: number;
  rows: Record<ProfileRow, number>;
}

export type ProfileRow = ProfileOp | 'poolWait' | 'nativeOther' | 'napiJs';

/** The rows that are matrix products over the weights: the projections and the LM head. */
const GEMM_ROWS: readonly ProfileRow[] = ['gemmQkv', 'gemmO', 'gemmGateUp', 'gemmDown', 'head'];

export const PROFILE_ROWS: readonly { row: ProfileRow; label: string }[] = [
  { row: 'gemmQkv', label: 'GEMM q/k/v' },
  { row: 'gemmO', label: 'GEMM o' },
  { row: 'gemmGateUp', label: 'GEMM gate/up' },
  { row: 'gemmDown', label: 'GEMM down' },
  { row: 'attention', label: 'attention' },
  { row: 'kvWrite', label: 'KV write' },
  { row: 'elementwise', label: 'norms/RoPE/act/embed' },
  { row: 'head', label: 'LM head' },
  { row: 'sample', label: 'sampling + log-probs' },
  { row: 'stopCheck', label: 'stop-string checks' },
  { row: 'poolWait', label: 'thread-pool waits' },
  { row: 'nativeOther', label: 'native bookkeeping' },
  { row: 'napiJs', label: 'N-API + JavaScript' },
];

/** A table row per class from one profiled call: `wallMs` over `steps` decode steps. */
export function profileColumn(batch: number, p: NativeProfile, wallMs: number, steps: number): ProfileColumn {
  const perStep = (ns: number) => ns / 1e6 / steps;
  const rows = {} as Record<ProfileRow, number>;
  let classified = 0;
  for (const [op, ns] of Object.entries(p.opNs) as [ProfileOp, number][]) {
    rows[op] = perStep(ns);
    classified += ns;
  }
  rows.poolWait = perStep(p.poolWaitNs);
  rows.nativeOther = perStep(p.callNs - classified - p.poolWaitNs);
  rows.napiJs = wallMs / steps - perStep(p.callNs);
  return { batch, stepMs: wallMs / steps, rows };
}

/** The stand-in vocabulary: every id decodes to a few distinct bytes, so stop checks see real text. */
function vocabularyBytes(vocab: number): { tokenBytes: Uint8Array; tokenOffsets: Uint32Array } {
  const enc = new TextEncoder();
  const parts = Array.from({ length: vocab }, (_, i) => enc.encode(i.toString(36)));
  const tokenOffsets = new Uint32Array(vocab + 1);
  for (let i = 0; i < vocab; i++) tokenOffsets[i + 1] = tokenOffsets[i]! + parts[i]!.length;
  const tokenBytes = new Uint8Array(tokenOffsets[vocab]!);
  parts.forEach((b, i) => tokenBytes.set(b, tokenOffsets[i]!));
  return { tokenBytes, tokenOffsets };
}

export async function benchProfile(opts: ProfileBenchOptions): Promise<ProfileBenchResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const shape = { ...QWEN25_05B, ...opts.shape };
  const batches = opts.batches ?? [1, 16, 64];
  const precision = opts.precision ?? 'bf16';
  const weights = opts.weights ?? 'bf16';
  const promptTokens = opts.promptTokens ?? 256;
  const tokens = opts.tokens ?? 16;
  const dir = mkdtempSync(path.join(tmpdir(), 'thinktree-profile-'));
  const file = path.join(dir, 'model.safetensors');
  let columns: ProfileColumn[] = [];
  let noSpin: ProfileColumn | null = null;
  let limits: ProfileLimits[] = [];
  try {
    const tensors = writeRandomCheckpoint(file, shape);
    const maxBatch = Math.max(...batches);
    const kvBytesPerToken = shape.layers * 2 * shape.kvHeads * shape.headDim * 4;
    const pages = Math.ceil(promptTokens / 16) + maxBatch * (Math.ceil((tokens + 4) / 16) + 1) + 8;
    const spec = { ...specFor(file, tensors, shape, opts.threads, precision, kvBytesPerToken * 16 * pages), ...vocabularyBytes(shape.vocab) };
    if (weights !== 'bf16') spec.quantize = quantDTypeName(weights);
    let weightBytes: number;
    ({ columns, weightBytes } = await profileBatches(spec, batches, promptTokens, tokens, shape.vocab));
    if (opts.machine) {
      const m = opts.machine;
      const peak = precision === 'bf16' ? m.fmaPeakBf16 : m.fmaPeakF32;
      limits = columns.map((c) => {
        const gemmMs = GEMM_ROWS.reduce((a, r) => a + c.rows[r], 0);
        // Context of a profiled step: the prompt, the 2 warm-up tokens and about half the timed ones.
        const flops = decodeStepFlops(shape, c.batch, promptTokens + 2 + tokens / 2);
        return {
          batch: c.batch,
          gemmOfPeak: decodeGemmFlops(shape, c.batch) / (gemmMs / 1e3) / 1e9 / peak,
          stepOverGemm: c.stepMs / gemmMs,
          ofRoofline: (decodeStepBound(weightBytes, m.readBandwidth, flops, peak) * 1e3) / c.stepMs,
        };
      });
    }
    if (opts.compareSpin ?? true) {
      const saved = process.env.THINKTREE_POOL_SPIN_US;
      process.env.THINKTREE_POOL_SPIN_US = '0'; // read by the pool when the model is made
      try {
        noSpin = (await profileBatches(spec, [1], promptTokens, tokens, shape.vocab)).columns[0]!;
      } finally {
        if (saved === undefined) delete process.env.THINKTREE_POOL_SPIN_US;
        else process.env.THINKTREE_POOL_SPIN_US = saved;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  log(`profile: ${describeShape(shape)}, ${weights} weights, ${precision} activations, prompt ${promptTokens}, greedy generateStep of ${tokens} tokens, ${opts.threads} threads (ms per decode step, % of the step)`);
  const shown = noSpin === null ? columns : [...columns, noSpin];
  log(`${'operation'.padEnd(22)}${shown.map((c) => (c === noSpin ? 'B=1 no spin' : `B=${c.batch}`).padStart(18)).join('')}`);
  const cell = (ms: number, c: ProfileColumn) => `${ms.toFixed(2).padStart(9)} ${((100 * ms) / c.stepMs).toFixed(1).padStart(6)}% `;
  for (const { row, label } of PROFILE_ROWS) log(`${label.padEnd(22)}${shown.map((c) => cell(c.rows[row], c)).join('')}`);
  log(`${'step (measured)'.padEnd(22)}${shown.map((c) => cell(c.stepMs, c)).join('')}`);
  if (noSpin !== null && columns[0]?.batch === 1) {
    log(`batch 1: step time with a pool that sleeps at once ÷ with the spinning pool = ${(noSpin.stepMs / columns[0].stepMs).toFixed(2)}`);
  }
  for (const l of limits)
    log(
      `B=${l.batch}: GEMMs + LM head at ${(100 * l.gemmOfPeak).toFixed(0)}% of the ${precision} peak; step ÷ their time ` +
        `${l.stepOverGemm.toFixed(2)}; step at ${(100 * l.ofRoofline).toFixed(0)}% of its roofline bound`,
    );
  return { columns, limits, noSpin };
}

/** Profiles a fresh model from `spec`: a shared prompt, then one profiled greedy call per batch size. */
async function profileBatches(
  spec: NativeModelSpec,
  batches: number[],
  promptTokens: number,
  tokens: number,
  vocab: number,
): Promise<{ columns: ProfileColumn[]; weightBytes: number }> {
  const columns: ProfileColumn[] = [];
  const model = await nativeAddon().loadModel(spec);
  const weightBytes = model.info().weightBytes;
  try {
    const prompt = model.createSequence(1);
    model.appendTokens(prompt, Int32Array.from({ length: promptTokens }, (_, i) => (i * 7919) % vocab));
    await model.forward(Int32Array.of(prompt), 'last');
    for (const batch of batches) {
      const seqs = model.forkMany(new Int32Array(batch).fill(prompt));
      // A stop string never found in base-36 digits: every step pays for the check and none ends early.
      const request = (maxTokens: number) => ({ ...greedyRequest(seqs, maxTokens), stop: [new TextEncoder().encode('<|stop|>')] });
      await model.generateStep(request(2)); // warm-up
      model.setProfiling(true);
      const t = performance.now();
      await model.generateStep(request(tokens));
      const wallMs = performance.now() - t;
      const p = model.profile();
      model.setProfiling(false);
      columns.push(profileColumn(batch, p, wallMs, p.steps));
      model.releaseMany(seqs);
    }
  } finally {
    model.dispose();
  }
  return { columns, weightBytes };
}
