/**
 * A straightforward Llama / Qwen2 / Mistral forward in plain TypeScript (float64, no KV cache, full
 * recompute of the whole token list), the oracle for the native runtime tests. Written from the
 * Hugging Face math, independently of the native code.
 */
import type { TinyModel } from './tiny-model.js';

/** y[n] = x[k] · W[n, k]ᵀ + b */
function linear(x: Float64Array, w: Float32Array, n: number, k: number, b?: Float32Array): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b ? b[i] : 0;
    const row = i * k;
    for (let j = 0; j < k; j++) s += x[j] * w[row + j];
    y[i] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * inv * w[i]);
}

/** Rotate-half RoPE in place on [heads, headDim]; the angle is rounded to f32 as HF computes it in f32. */
function rope(x: Float64Array, heads: number, headDim: number, pos: number, invFreq: Float32Array): void {
  const half = headDim / 2;
  for (let i = 0; i < half; i++) {
    const angle = Math.fround(pos * invFreq[i]);
    const c = Math.cos(angle), s = Math.sin(angle);
    for (let h = 0; h < heads; h++) {
      const a = x[h * headDim + i], b = x[h * headDim + i + half];
      x[h * headDim + i] = a * c - b * s;
      x[h * headDim + i + half] = b * c + a * s;
    }
  }
}

const silu = (v: number) => v / (1 + Math.exp(-v));

/** What the reference reads of a model: its weights by Hugging Face name and its shape. */
export type ReferenceModel = Pick<TinyModel, 'weights' | 'config'>;

export interface ReferenceOptions {
  /**
   * Applied to the input of every matrix product (q/k/v/o, gate/up/down, the head): an engine's
   * rounding of the activations before a quantized dot product (quant-reference.ts); `token` is the
   * position whose activations x are. @default none
   */
  roundInput?: (x: Float64Array, token: number) => Float64Array;
}

/** Logits after every token of `tokens`: [tokens.length] rows of [vocab]. */
export function referenceLogits(m: ReferenceModel, tokens: number[], options: ReferenceOptions = {}): Float64Array[] {
  const c = m.config;
  const head = c.tieWordEmbeddings ? m.weights.get('model.embed_tokens.weight')! : m.weights.get('lm_head.weight');
  if (!head) throw new Error('reference: no tensor lm_head.weight');
  const r = options.roundInput ?? ((x: Float64Array) => x);
  return referenceHidden(m, tokens, options).map((h, t) => linear(r(h, t), head, c.vocab, c.hidden));
}

/** The final-normed hidden state after every token of `tokens` (what output heads read): [tokens.length] rows of [hidden]. */
export function referenceHidden(m: ReferenceModel, tokens: number[], options: ReferenceOptions = {}): Float64Array[] {
  const c = m.config;
  const r = options.roundInput ?? ((x: Float64Array) => x);
  const W = (n: string) => {
    const w = m.weights.get(n);
    if (!w) throw new Error(`reference: no tensor ${n}`);
    return w;
  };
  const T = tokens.length;
  const qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim;
  const group = c.heads / c.kvHeads;
  const embed = W('model.embed_tokens.weight');
  let xs = tokens.map((t) => Float64Array.from(embed.subarray(t * c.hidden, (t + 1) * c.hidden)));
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}.`;
    const bias = (n: string) => (c.attentionBias ? W(p + n) : undefined);
    const qs: Float64Array[] = [], ks: Float64Array[] = [], vs: Float64Array[] = [];
    for (let t = 0; t < T; t++) {
      const h = r(rmsNorm(xs[t], W(p + 'input_layernorm.weight'), c.rmsNormEps), t);
      const q = linear(h, W(p + 'self_attn.q_proj.weight'), qDim, c.hidden, bias('self_attn.q_proj.bias'));
      const k = linear(h, W(p + 'self_attn.k_proj.weight'), kvDim, c.hidden, bias('self_attn.k_proj.bias'));
      const v = linear(h, W(p + 'self_attn.v_proj.weight'), kvDim, c.hidden, bias('self_attn.v_proj.bias'));
      rope(q, c.heads, c.headDim, t, c.invFreq);
      rope(k, c.kvHeads, c.headDim, t, c.invFreq);
      qs.push(q);
      ks.push(k);
      vs.push(v);
    }
    const window = c.slidingWindow[l];
    xs = xs.map((x, t) => {
      // causal attention; with a sliding window W, keys j with j > t - W (the last W including t)
      const first = window > 0 ? Math.max(0, t - window + 1) : 0;
      const o = new Float64Array(qDim);
      for (let hq = 0; hq < c.heads; hq++) {
        const hk = Math.floor(hq / group);
        const scores: number[] = [];
        for (let j = first; j <= t; j++) {
          let s = 0;
          for (let d = 0; d < c.headDim; d++) s += qs[t][hq * c.headDim + d] * ks[j][hk * c.headDim + d];
          scores.push(s / Math.sqrt(c.headDim));
        }
        const mx = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - mx));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = first; j <= t; j++) {
          const pj = e[j - first] / z;
          for (let d = 0; d < c.headDim; d++) o[hq * c.headDim + d] += pj * vs[j][hk * c.headDim + d];
        }
      }
      const attnOut = linear(r(o, t), W(p + 'self_attn.o_proj.weight'), c.hidden, qDim);
      const x1 = x.map((v, i) => v + attnOut[i]);
      const h = r(rmsNorm(x1, W(p + 'post_attention_layernorm.weight'), c.rmsNormEps), t);
      const g = linear(h, W(p + 'mlp.gate_proj.weight'), c.intermediate, c.hidden);
      const u = linear(h, W(p + 'mlp.up_proj.weight'), c.intermediate, c.hidden);
      const act = g.map((gv, i) => silu(gv) * u[i]);
      const down = linear(r(act, t), W(p + 'mlp.down_proj.weight'), c.hidden, c.intermediate);
      return x1.map((v, i) => v + down[i]);
    });
  }
  return xs.map((x) => rmsNorm(x, W('model.norm.weight'), c.rmsNormEps));
}

/** Index of the largest of values[0, n) (lowest index on ties). */
export function argmax(values: ArrayLike<number>, n = values.length): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** log softmax(values[0, n))[i] */
export function logSoftmaxAt(values: ArrayLike<number>, i: number, n = values.length): number {
  let mx = -Infinity;
  for (let j = 0; j < n; j++) mx = Math.max(mx, values[j]);
  let z = 0;
  for (let j = 0; j < n; j++) z += Math.exp(values[j] - mx);
  return values[i] - mx - Math.log(z);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
