/**
 * Tensor bytes for the GGUF writer: read a checkpoint tensor, convert between F32, F16 and BF16 the
 * way PyTorch rounds (nearest, ties to even), and permute Q/K rows as llama.cpp's converter does for
 * arch `llama`.
 */
import { open } from 'node:fs/promises';
import type { NativeTensorSpec } from '../../native/addon-types.js';
import { fileReadError } from '../errors.js';

/** Reads a located tensor's raw bytes from its file. */
export async function readTensorBytes(file: string, t: NativeTensorSpec): Promise<Uint8Array> {
  const out = new Uint8Array(t.byteLength);
  const fh = await open(file, 'r').catch((err) => {
    throw fileReadError(file, 'open the checkpoint file', err);
  });
  try {
    for (let done = 0; done < out.length; ) {
      const { bytesRead } = await fh.read(out, done, out.length - done, t.offset + done);
      if (bytesRead === 0) throw new Error(`${file}: tensor ${t.name} ends past the end of the file`);
      done += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return out;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** bf16 bits → f32 (exact). */
export function bf16ToF32(bits: number): number {
  u32Scratch[0] = bits << 16;
  return f32Scratch[0]!;
}

/** f32 → bf16 bits, nearest with ties to even (NaN stays a quiet NaN), as torch's `.to(bfloat16)`. */
export function f32ToBf16(x: number): number {
  f32Scratch[0] = x;
  const u = u32Scratch[0]!;
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** f16 bits → f32 (exact). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** f32 → f16 bits, nearest with ties to even; overflow to ±Inf. */
export function f32ToF16(x: number): number {
  f32Scratch[0] = x;
  const u = u32Scratch[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
  return sign | h; // a carry into the exponent is the correct rounding (up to Inf)
}

/** Raw little-endian bytes of `dtype` → f32 values. */
export function toF32(bytes: Uint8Array, dtype: string): Float32Array {
  const n = bytes.byteLength / (dtype === 'F32' ? 4 : 2);
  if (dtype === 'F32') return new Float32Array(bytes.slice().buffer);
  const bits = new Uint16Array(bytes.slice().buffer);
  const out = new Float32Array(n);
  const conv = dtype === 'BF16' ? bf16ToF32 : f16ToF32;
  for (let i = 0; i < n; i++) out[i] = conv(bits[i]!);
  return out;
}

/** f32 values → raw bytes of 'F32', 'F16' or 'BF16'. */
export function fromF32(values: Float32Array, dtype: string): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint16Array(values.length);
  const conv = dtype === 'BF16' ? f32ToBf16 : f32ToF16;
  for (let i = 0; i < values.length; i++) out[i] = conv(values[i]!);
  return new Uint8Array(out.buffer);
}

/**
 * llama.cpp's Q/K permutation for arch `llama` (convert_hf_to_gguf.py `LlamaModel.permute`): within
 * each head of `headDim` rows, row j·(headDim/2) + i moves to row 2i + j, so rotary pair i — rows
 * (i, i + headDim/2) in Hugging Face's rotate-half layout — becomes the adjacent rows (2i, 2i + 1).
 * Rows are moved whole (`rowBytes` each), so it applies to any row-wise type.
 */
export function permuteRotaryRows(bytes: Uint8Array, heads: number, headDim: number, rowBytes: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  const half = headDim / 2;
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < 2; j++) {
      for (let i = 0; i < half; i++) {
        const from = h * headDim + j * half + i;
        const to = h * headDim + 2 * i + j;
        out.set(bytes.subarray(from * rowBytes, (from + 1) * rowBytes), to * rowBytes);
      }
    }
  }
  return out;
}
