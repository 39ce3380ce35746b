/**
 * Rotary-embedding inverse frequencies, computed the way Hugging Face transformers computes them
 * (`modeling_rope_utils.py`) so that our cos/sin tables match theirs bit for bit where possible.
 *
 * transformers does this arithmetic on float32 tensors, so every tensor operation below is rounded to
 * f32 with Math.fround. Python scalars that meet a float32 tensor are cast to f32 first (torch keeps
 * the tensor's dtype and computes in it), and `scalar / tensor` is `tensor.reciprocal() * scalar`
 * in torch, which rounds twice; we mirror both. Near a llama3 band edge this rounding decides
 * which branch an element takes, which is why it matters.
 */
import type { RopeScaling } from './config.js';

const f32 = Math.fround;

export interface RopeParameters {
  /** Rotated dimensions per head (the full head_dim for Llama / Qwen2 / Mistral). */
  headDim: number;
  theta: number;
  scaling: RopeScaling;
}

export interface RopeTables {
  /** [headDim / 2] inverse frequencies, scaling applied. */
  invFreq: Float32Array;
  /** Multiplies cos and sin; 1 for default, linear and llama3. */
  attentionScaling: number;
}

/** `1 / base ** (arange(0, dim, 2).float() / dim)` in float32. */
export function defaultInvFreq(headDim: number, theta: number): Float32Array {
  if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) {
    throw new RangeError(`RoPE head_dim must be a positive even integer, got ${headDim}`);
  }
  if (!(theta > 0) || !Number.isFinite(theta)) throw new RangeError(`RoPE theta must be a positive number, got ${theta}`);
  const base = f32(theta);
  const out = new Float32Array(headDim / 2);
  for (let i = 0; i < out.length; i++) {
    const exponent = f32((2 * i) / headDim);
    out[i] = f32(1 / f32(Math.pow(base, exponent)));
  }
  return out;
}

/** Linear (position-interpolation) scaling: every inverse frequency divided by the factor. */
function linear(inv: Float32Array, factor: number): Float32Array {
  const fac = f32(factor);
  return inv.map((x) => f32(x / fac));
}

/**
 * Llama 3.1 (`_compute_llama3_parameters`): wavelengths shorter than original_context / high_freq_factor
 * keep their frequency, those longer than original_context / low_freq_factor are divided by `factor`,
 * and the band between interpolates smoothly between the two.
 */
function llama3(inv: Float32Array, s: Extract<RopeScaling, { type: 'llama3' }>): Float32Array {
  const factor = f32(s.factor);
  const old = f32(s.originalMaxPositionEmbeddings);
  const lowWavelen = f32(s.originalMaxPositionEmbeddings / s.lowFreqFactor);
  const highWavelen = f32(s.originalMaxPositionEmbeddings / s.highFreqFactor);
  const lowFreq = f32(s.lowFreqFactor);
  const band = f32(s.highFreqFactor - s.lowFreqFactor);
  const twoPi = f32(2 * Math.PI);
  return inv.map((x) => {
    const wavelen = f32(f32(1 / x) * twoPi);
    const scaled = wavelen > lowWavelen ? f32(x / factor) : x;
    const isMedium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
    if (!isMedium) return scaled;
    const smooth = f32(f32(f32(f32(1 / wavelen) * old) - lowFreq) / band);
    return f32(f32(f32(f32(1 - smooth) * scaled) / factor) + f32(smooth * scaled));
  });
}

/** llama.cpp's frequency factors (ggml's rope divides each dimension's theta by its factor). */
function freqFactors(inv: Float32Array, factors: Float32Array): Float32Array {
  if (factors.length !== inv.length) {
    throw new RangeError(`RoPE frequency factors must have head_dim / 2 = ${inv.length} entries, got ${factors.length}`);
  }
  return inv.map((x, i) => {
    const f = factors[i]!;
    if (!(f > 0) || !Number.isFinite(f)) throw new RangeError(`RoPE frequency factor ${i} must be a positive number, got ${f}`);
    return f32(x / f);
  });
}

/** Inverse frequencies and attention scaling for a model's rope settings. */
export function computeRope(p: RopeParameters): RopeTables {
  const inv = defaultInvFreq(p.headDim, p.theta);
  switch (p.scaling.type) {
    case 'default':
      return { invFreq: inv, attentionScaling: 1 };
    case 'linear':
      return { invFreq: linear(inv, p.scaling.factor), attentionScaling: 1 };
    case 'llama3':
      return { invFreq: llama3(inv, p.scaling), attentionScaling: 1 };
    case 'freq-factors':
      return { invFreq: freqFactors(inv, p.scaling.factors), attentionScaling: 1 };
  }
}
