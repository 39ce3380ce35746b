/**
 * Arithmetic and roofline bounds of a decoder-only transformer forward on the benches' model shape,
 * so the decode and profile suites can state what they measure as a fraction of what the machine
 * allows (issue targets are ratios to limits measured in the same run).
 *
 * Counted: the seven projections of every layer (q, k, v, o, gate, up, down) and the LM head, at
 * 2 flops per multiply-add, plus attention's two products (q·kᵀ and p·v, 2 · 2 · head_dim flops per
 * query head and visible key). Norms, RoPE, the activation and softmax are left out: they are
 * O(hidden) per token, under 1% of the projections at these shapes.
 */
import type { ModelShape } from './random-model.js';

/** Multiply-adds per token of the layer projections (all layers), i.e. the body's matrix parameters. */
export function bodyMatrixParams(s: ModelShape): number {
  const q = s.heads * s.headDim;
  const kv = s.kvHeads * s.headDim;
  return s.layers * (s.hidden * q + 2 * s.hidden * kv + q * s.hidden + 3 * s.hidden * s.intermediate);
}

/** Attention flops of one query token that sees `keys` keys, all layers. */
function attentionFlops(s: ModelShape, keys: number): number {
  return s.layers * s.heads * 4 * s.headDim * keys;
}

/**
 * Flops of a prefill of `tokens` prompt tokens from an empty cache (causal: token i sees i + 1 keys)
 * with logits for the last row only.
 */
export function prefillFlops(s: ModelShape, tokens: number): number {
  const keys = (tokens * (tokens + 1)) / 2;
  return 2 * bodyMatrixParams(s) * tokens + attentionFlops(s, keys) + 2 * s.vocab * s.hidden;
}

/** Flops of one decode step of `batch` sequences, each with `context` keys visible (its new one included). */
export function decodeStepFlops(s: ModelShape, batch: number, context: number): number {
  return batch * (2 * (bodyMatrixParams(s) + s.vocab * s.hidden) + attentionFlops(s, context));
}

/** The GEMM part of decodeStepFlops: projections and LM head only. */
export function decodeGemmFlops(s: ModelShape, batch: number): number {
  return batch * 2 * (bodyMatrixParams(s) + s.vocab * s.hidden);
}

/**
 * The shortest a decode step can take: streaming the weights once at the read bandwidth, or doing
 * its arithmetic at the dot-product peak, whichever is longer (seconds).
 */
export function decodeStepBound(weightBytes: number, bandwidthGBps: number, flops: number, peakGflops: number): number {
  return Math.max(weightBytes / (bandwidthGBps * 1e9), flops / (peakGflops * 1e9));
}
