/**
 * PRM scoring in a beam-search-shaped workload: incremental scoring over the PRM's own KV tree (fork the
 * parent, append only the new step, read the reward at its end) vs full re-encoding of question + all
 * steps for every candidate (what search-and-learn, OpenR and vLLM's reward pooling do). Same native
 * engine, same batching (all candidates of a step in one forward), so the ratio isolates the caching.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NativeModel, SeqId } from '../../native/addon-types.js';
import { nativeAddon } from '../../native/load.js';
import { QWEN25_05B, benchTokens, prmHeadTensors, specFor, writeRandomCheckpoint, type ModelShape } from './random-model.js';

export interface PrmBenchOptions {
  threads: number;
  log?: (line: string) => void;
  /** @default 200 */
  questionTokens?: number;
  /** Beams kept after each step. @default 16 */
  beams?: number;
  /** Candidates per beam. @default 4 */
  expansions?: number;
  /** @default 8 */
  steps?: number;
  /** Tokens per step, separator included. @default 25 */
  stepTokens?: number;
  /**
   * Backbone shape; default Qwen2.5-0.5B's with 2 layers instead of 24: both paths run the same
   * per-layer work, so the ratios do not depend on depth, and 24 layers of full re-encoding take tens
   * of minutes on a small CPU.
   */
  shape?: Partial<ModelShape>;
}

export interface PrmBenchStep {
  step: number;
  incrementalTokens: number;
  fullTokens: number;
  incrementalSeconds: number;
  fullSeconds: number;
}

export interface PrmBenchResult {
  steps: PrmBenchStep[];
  tokenRatio: number;
  timeRatio: number;
}

/** Scores all candidates; returns the reward logit of each (class 1 of the 2-way head). */
async function scoreLast(model: NativeModel, seqs: Int32Array): Promise<Float32Array> {
  const out = await model.forward(seqs, 'last');
  return Float32Array.from({ length: seqs.length }, (_, i) => out[2 * i + 1] - out[2 * i]);
}

export async function benchPrmScoring(opts: PrmBenchOptions): Promise<PrmBenchResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const q = opts.questionTokens ?? 200;
  const beams = opts.beams ?? 16;
  const expansions = opts.expansions ?? 4;
  const stepsN = opts.steps ?? 8;
  const stepLen = opts.stepTokens ?? 25;
  const shape: ModelShape = { ...QWEN25_05B, layers: 2, ...opts.shape };
  const candidates = beams * expansions;
  const h = shape.hidden;

  const dir = mkdtempSync(path.join(tmpdir(), 'thinktree-prm-bench-'));
  const file = path.join(dir, 'model.safetensors');
  const tensors = writeRandomCheckpoint(file, shape, prmHeadTensors(h));
  const maxLen = q + stepsN * stepLen;
  const kvPerToken = shape.layers * 2 * shape.kvHeads * shape.headDim * 4;
  // Room for both sides at once: full re-encoding holds every candidate's whole path, and the
  // incremental tree holds at most that much again (the kept beams' paths plus the new children).
  const kvCacheBytes = kvPerToken * 16 * 2 * candidates * (Math.ceil(maxLen / 16) + 2);
  // Prefix caching off: the full re-encoding side stands for the Python systems' PRM path (vLLM turns
  // prefix caching off for pooling requests), and with it on, each step's re-encoding would find the
  // previous step's pages cached. The incremental side forks and never looks the cache up.
  const model = await nativeAddon().loadModel({
    ...specFor(file, tensors, shape, opts.threads, 'f32', kvCacheBytes, { kind: 'mlp2', prefix: 'score', outputs: 2 }),
    prefixCache: false,
  });
  const question = benchTokens(q, 0);
  // The token path of each kept beam, for the full re-encoding side.
  const rows: PrmBenchStep[] = [];
  try {
    // Incremental: the question is prefilled once; children fork their parent and append one step.
    const root = model.createSequence(1);
    model.appendTokens(root, question);
    let t = performance.now();
    await model.forward(Int32Array.of(root), 'last');
    const rootSeconds = (performance.now() - t) / 1e3;
    let kept: { seq: SeqId; path: Int32Array }[] = [{ seq: root, path: question }];
    for (let step = 1; step <= stepsN; step++) {
      const per = Math.ceil(candidates / kept.length);
      const parents = kept.flatMap((k) => Array.from({ length: per }, () => k));
      const stepIds = parents.map((_, i) => benchTokens(stepLen, step * 1000 + i));
      const paths = parents.map((p, i) => Int32Array.from([...p.path, ...stepIds[i]]));

      t = performance.now();
      const children = model.forkMany(Int32Array.from(parents.map((p) => p.seq)));
      children.forEach((c, i) => model.appendTokens(c as SeqId, stepIds[i]));
      const scores = await scoreLast(model, children);
      const incrementalSeconds = (performance.now() - t) / 1e3 + (step === 1 ? rootSeconds : 0);

      // Full re-encoding of every candidate's question + steps, in one batch, as the Python systems do.
      t = performance.now();
      const fresh = Int32Array.from(paths.map((p) => {
        const s = model.createSequence(2);
        model.appendTokens(s, p);
        return s;
      }));
      await scoreLast(model, fresh);
      model.releaseMany(fresh);
      const fullSeconds = (performance.now() - t) / 1e3;

      rows.push({
        step,
        incrementalTokens: children.length * stepLen + (step === 1 ? q : 0),
        fullTokens: paths.reduce((a, p) => a + p.length, 0),
        incrementalSeconds,
        fullSeconds,
      });
      // Keep the best `beams` candidates, as beam search does; the rest and the old beams go.
      const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
      const next = order.slice(0, beams).map((i) => ({ seq: children[i] as SeqId, path: paths[i] }));
      const keep = new Set(next.map((n) => n.seq as number));
      model.releaseMany(Int32Array.from([...kept.map((k) => k.seq), ...Array.from(children).filter((c) => !keep.has(c))]));
      kept = next;
    }
    model.releaseMany(Int32Array.from(kept.map((k) => k.seq)));
  } finally {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }

  const sum = (f: (r: PrmBenchStep) => number) => rows.reduce((a, r) => a + f(r), 0);
  const tokenRatio = sum((r) => r.fullTokens) / sum((r) => r.incrementalTokens);
  const timeRatio = sum((r) => r.fullSeconds) / sum((r) => r.incrementalSeconds);
  log(
    `PRM scoring, beam-shaped: question ${q} tokens, ${beams} beams × ${expansions} expansions, ${stepsN} steps of ${stepLen} tokens; ` +
      `Qwen2.5-0.5B shape with ${shape.layers} layers, mlp2 reward head, ${opts.threads} threads`,
  );
  log('step   incremental tok   full tok   tok ratio   incremental ms    full ms   time ratio');
  for (const r of rows) {
    log(
      `${String(r.step).padStart(4)} ${String(r.incrementalTokens).padStart(17)} ${String(r.fullTokens).padStart(10)} ` +
        `${(r.fullTokens / r.incrementalTokens).toFixed(1).padStart(10)}× ${(r.incrementalSeconds * 1e3).toFixed(0).padStart(15)} ` +
        `${(r.fullSeconds * 1e3).toFixed(0).padStart(10)} ${(r.fullSeconds / r.incrementalSeconds).toFixed(1).padStart(11)}×`,
    );
  }
  log(`total: ${tokenRatio.toFixed(1)}× fewer PRM tokens, ${timeRatio.toFixed(1)}× less PRM time with incremental scoring`);
  return { steps: rows, tokenRatio, timeRatio };
}
