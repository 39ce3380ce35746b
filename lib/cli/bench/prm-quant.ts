/**
 * PRM scoring with a Q8_0 body against BF16: the same beam-shaped incremental workload as prm.ts (fork
 * the parent, append one step, score its end) on a random Qwen2.5-0.5B-shaped PRM with an mlp2 head,
 * once with the weights as stored and once quantized on load (the head stays BF16). Beams are kept by
 * index, not by score, so both runs score exactly the same candidates and their rewards compare one to
 * one: time per run and max |Δreward| (class-1 probability of the two-way head).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NativeModel, SeqId } from '../../native/addon-types.js';
import { nativeAddon } from '../../native/load.js';
import { QWEN25_05B, benchTokens, prmHeadTensors, specFor, writeRandomCheckpoint, type ModelShape } from './random-model.js';

export interface PrmQuantBenchOptions {
  threads: number;
  log?: (line: string) => void;
  /** @default 200 */
  questionTokens?: number;
  /** @default 16 */
  beams?: number;
  /** @default 4 */
  expansions?: number;
  /** @default 4 */
  steps?: number;
  /** @default 25 */
  stepTokens?: number;
  /** Backbone shape; default Qwen2.5-0.5B's with 4 layers (the ratio does not depend on depth). */
  shape?: Partial<ModelShape>;
}

export interface PrmQuantBenchResult {
  bf16Seconds: number;
  q8Seconds: number;
  bf16WeightBytes: number;
  q8WeightBytes: number;
  /** Largest difference of a candidate's reward (a probability) between the two. */
  maxRewardDelta: number;
  candidatesScored: number;
}

/** Runs the workload; returns the seconds spent in PRM calls and every reward in order. */
async function run(model: NativeModel, o: Required<Omit<PrmQuantBenchOptions, 'log' | 'shape' | 'threads'>>) {
  const candidates = o.beams * o.expansions;
  const rewards: number[] = [];
  let seconds = 0;
  const root = model.createSequence(1);
  model.appendTokens(root, benchTokens(o.questionTokens, 0));
  let t = performance.now();
  await model.forward(Int32Array.of(root), 'last');
  seconds += (performance.now() - t) / 1e3;
  let kept: SeqId[] = [root];
  for (let step = 1; step <= o.steps; step++) {
    const per = Math.ceil(candidates / kept.length);
    const parents = kept.flatMap((k) => Array.from({ length: per }, () => k));
    t = performance.now();
    const children = model.forkMany(Int32Array.from(parents));
    children.forEach((c, i) => model.appendTokens(c as SeqId, benchTokens(o.stepTokens, step * 1000 + i)));
    const out = await model.forward(children, 'last');
    seconds += (performance.now() - t) / 1e3;
    for (let i = 0; i < children.length; i++) rewards.push(1 / (1 + Math.exp(out[2 * i]! - out[2 * i + 1]!)));
    // Keep the first `beams` children (by index: the same ones in both runs).
    const next = Array.from(children.slice(0, o.beams)) as SeqId[];
    model.releaseMany(Int32Array.from([...kept, ...Array.from(children.slice(o.beams))]));
    kept = next;
  }
  model.releaseMany(Int32Array.from(kept));
  return { seconds, rewards };
}

export async function benchPrmQuantized(opts: PrmQuantBenchOptions): Promise<PrmQuantBenchResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const o = {
    questionTokens: opts.questionTokens ?? 200,
    beams: opts.beams ?? 16,
    expansions: opts.expansions ?? 4,
    steps: opts.steps ?? 4,
    stepTokens: opts.stepTokens ?? 25,
  };
  const shape: ModelShape = { ...QWEN25_05B, layers: 4, ...opts.shape };
  const h = shape.hidden;
  const dir = mkdtempSync(path.join(tmpdir(), 'thinktree-prm-quant-bench-'));
  const file = path.join(dir, 'model.safetensors');
  const tensors = writeRandomCheckpoint(file, shape, prmHeadTensors(h));
  const kvPerToken = shape.layers * 2 * shape.kvHeads * shape.headDim * 4;
  const kvCacheBytes = kvPerToken * 16 * 2 * o.beams * o.expansions * (Math.ceil((o.questionTokens + o.steps * o.stepTokens) / 16) + 2);
  const head = { kind: 'mlp2', prefix: 'score', outputs: 2 } as const;
  const results: Array<{ seconds: number; rewards: number[]; weightBytes: number }> = [];
  try {
    for (const quantize of [undefined, 'Q8_0'] as const) {
      const spec = { ...specFor(file, tensors, shape, opts.threads, 'bf16', kvCacheBytes, head), prefixCache: false };
      if (quantize) spec.quantize = quantize;
      const model = await nativeAddon().loadModel(spec);
      try {
        results.push({ ...(await run(model, o)), weightBytes: model.info().weightBytes });
      } finally {
        model.dispose();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const [bf, q8] = results as [(typeof results)[0], (typeof results)[0]];
  let maxRewardDelta = 0;
  bf.rewards.forEach((r, i) => (maxRewardDelta = Math.max(maxRewardDelta, Math.abs(r - q8.rewards[i]!))));
  log(
    `PRM scoring, Q8_0 body vs BF16 (mlp2 head kept BF16): ${shape.layers} layers of the Qwen2.5-0.5B shape, ${o.beams} beams × ` +
      `${o.expansions} expansions, ${o.steps} steps, ${opts.threads} threads`,
  );
  log(`bf16: ${(bf.seconds * 1e3).toFixed(0)} ms, ${(bf.weightBytes / 1e6).toFixed(0)} MB of weights`);
  log(`q8_0: ${(q8.seconds * 1e3).toFixed(0)} ms, ${(q8.weightBytes / 1e6).toFixed(0)} MB of weights (${(bf.seconds / q8.seconds).toFixed(2)}× BF16's speed)`);
  log(`max |Δreward| over ${bf.rewards.length} scored candidates: ${maxRewardDelta.toExponential(2)}`);
  return {
    bf16Seconds: bf.seconds,
    q8Seconds: q8.seconds,
    bf16WeightBytes: bf.weightBytes,
    q8WeightBytes: q8.weightBytes,
    maxRewardDelta,
    candidatesScored: bf.rewards.length,
  };
}
