/**
 * ggml's block formats decoded in TypeScript straight from their definitions (ggml-common.h's
 * block_q8_0 / block_q4_0 / block_q4_K / block_q6_K and ggml-quants.c's dequantize_row_*), written
 * independently of the native code, plus ggml's exact reference quantizers for Q8_0 and Q4_0. Every
 * product is rounded to f32 where the C code computes in float, so decodes compare bit for bit.
 */
const fr = Math.fround;

/** IEEE half from its definition: sign · 2^(e-15) · (1 + f/1024), subnormals 2^-14 · f/1024. */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return sign * f * 2 ** -24;
  if (e === 31) return f === 0 ? sign * Infinity : NaN;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

/** The half nearest to x (ties to the even mantissa), by searching the ordered halves. */
export function f32ToF16(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  // Non-negative halves are ordered like their bit patterns: binary search the largest ≤ a.
  let lo = 0;
  let hi = 0x7bff;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (f16ToF32(mid) <= a) lo = mid;
    else hi = mid - 1;
  }
  const below = f16ToF32(lo);
  if (below === a || lo === 0x7bff) return sign | lo;
  const above = f16ToF32(lo + 1);
  const pick = a - below < above - a ? lo : a - below > above - a ? lo + 1 : lo % 2 === 0 ? lo : lo + 1;
  return sign | pick;
}

export type RefType = 'q8_0' | 'q4_0' | 'q4_k' | 'q6_k';
export const BLOCK: Record<RefType, { elements: number; bytes: number }> = {
  q8_0: { elements: 32, bytes: 34 },
  q4_0: { elements: 32, bytes: 18 },
  q4_k: { elements: 256, bytes: 144 },
  q6_k: { elements: 256, bytes: 210 },
};

function half(b: Uint8Array, at: number): number {
  return f16ToF32(b[at]! | (b[at + 1]! << 8));
}

/** Decodes one block starting at byte `at` into out[o .. o + elements). */
export function decodeBlock(type: RefType, b: Uint8Array, at: number, out: Float32Array, o: number): void {
  if (type === 'q8_0') {
    const d = half(b, at);
    for (let i = 0; i < 32; i++) out[o + i] = fr(d * ((b[at + 2 + i]! << 24) >> 24));
  } else if (type === 'q4_0') {
    const d = half(b, at);
    for (let i = 0; i < 16; i++) {
      out[o + i] = fr(d * ((b[at + 2 + i]! & 0xf) - 8));
      out[o + i + 16] = fr(d * ((b[at + 2 + i]! >> 4) - 8));
    }
  } else if (type === 'q4_k') {
    const d = half(b, at);
    const dmin = half(b, at + 2);
    const sc = (j: number): [number, number] => {
      const q = (i: number) => b[at + 4 + i]!;
      if (j < 4) return [q(j) & 63, q(j + 4) & 63];
      return [(q(j + 4) & 0xf) | ((q(j - 4) >> 6) << 4), (q(j + 4) >> 4) | ((q(j) >> 6) << 4)];
    };
    const qs = at + 16;
    for (let j = 0; j < 256; j += 64) {
      const [s1, m1] = sc(j / 32);
      const [s2, m2] = sc(j / 32 + 1);
      const d1 = fr(d * s1), min1 = fr(dmin * m1), d2 = fr(d * s2), min2 = fr(dmin * m2);
      for (let l = 0; l < 32; l++) out[o + j + l] = fr(fr(d1 * (b[qs + j / 2 + l]! & 0xf)) - min1);
      for (let l = 0; l < 32; l++) out[o + j + 32 + l] = fr(fr(d2 * (b[qs + j / 2 + l]! >> 4)) - min2);
    }
  } else {
    // ql[128] qh[64] scales[16] d
    const d = half(b, at + 208);
    const scale = (i: number) => (b[at + 192 + i]! << 24) >> 24;
    for (let n = 0; n < 2; n++) {
      const ql = at + 64 * n;
      const qh = at + 128 + 32 * n;
      for (let l = 0; l < 32; l++) {
        const is = 8 * n + Math.floor(l / 16);
        const h = b[qh + l]!;
        const q1 = ((b[ql + l]! & 0xf) | ((h & 3) << 4)) - 32;
        const q2 = ((b[ql + l + 32]! & 0xf) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((b[ql + l]! >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((b[ql + l + 32]! >> 4) | (((h >> 6) & 3) << 4)) - 32;
        out[o + 128 * n + l] = fr(fr(d * scale(is)) * q1);
        out[o + 128 * n + l + 32] = fr(fr(d * scale(is + 2)) * q2);
        out[o + 128 * n + l + 64] = fr(fr(d * scale(is + 4)) * q3);
        out[o + 128 * n + l + 96] = fr(fr(d * scale(is + 6)) * q4);
      }
    }
  }
}

/** Decodes [rows, cols] of `type` blocks. */
export function decodeRows(type: RefType, bytes: Uint8Array, rows: number, cols: number): Float32Array {
  const { elements, bytes: bb } = BLOCK[type];
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < (rows * cols) / elements; i++) decodeBlock(type, bytes, i * bb, out, i * elements);
  return out;
}

/** ggml's quantize_row_q8_0_ref / quantize_row_q4_0_ref, on one row of whole blocks. */
export function quantizeReference(type: 'q8_0' | 'q4_0', x: Float32Array): Uint8Array {
  const { bytes: bb } = BLOCK[type];
  const nb = x.length / 32;
  const out = new Uint8Array(nb * bb);
  for (let b = 0; b < nb; b++) {
    const xs = x.subarray(32 * b, 32 * b + 32);
    let amax = 0;
    let max = 0;
    for (const v of xs) {
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = type === 'q8_0' ? fr(amax / 127) : fr(max / -8);
    const id = d !== 0 ? fr(1 / d) : 0;
    const h = f32ToF16(d);
    out[b * bb] = h & 0xff;
    out[b * bb + 1] = h >> 8;
    if (type === 'q8_0') {
      // roundf: half away from zero
      for (let i = 0; i < 32; i++) {
        const v = fr(xs[i]! * id);
        out[b * bb + 2 + i] = (Math.sign(v) * Math.round(Math.abs(v))) & 0xff;
      }
    } else {
      for (let i = 0; i < 16; i++) {
        const lo = Math.min(15, Math.trunc(fr(fr(xs[i]! * id) + 8.5)));
        const hi = Math.min(15, Math.trunc(fr(fr(xs[i + 16]! * id) + 8.5)));
        out[b * bb + 2 + i] = lo | (hi << 4);
      }
    }
  }
  return out;
}

/** Round half to even (ggml's nearest_int, and _mm256_round_ps with _MM_ROUND_NEAREST). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The activations as ggml's CPU dot products against Q8_0 / Q4_0 weights see them: every block of 32
 * becomes q8_0 the way the x86 quantize_row_q8_0 writes it (d = max|x| / 127 stored as f16, id =
 * 127 / max|x|, q = x·id rounded half to even), and the product uses f16(d)·q. x is f32 there.
 */
export function roundActsGgmlQ8_0(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let b = 0; b < x.length; b += 32) {
    let amax = 0;
    for (let i = b; i < b + 32; i++) amax = Math.max(amax, Math.abs(fr(x[i]!)));
    const d = f16ToF32(f32ToF16(fr(amax / 127)));
    const id = amax !== 0 ? fr(127 / amax) : 0;
    for (let i = b; i < b + 32; i++) out[i] = d * roundHalfEven(fr(fr(x[i]!) * id));
  }
  return out;
}

/**
 * The same for Q4_K / Q6_K weights: q8_K blocks of 256 (quantize_row_q8_K_ref: iscale = -127 / m
 * where m is the element of largest magnitude with its sign, q = min(127, nearest_int(iscale·x)),
 * d = 1 / iscale in f32).
 */
export function roundActsGgmlQ8_K(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let b = 0; b < x.length; b += 256) {
    let amax = 0;
    let max = 0;
    for (let i = b; i < b + 256; i++) {
      const v = fr(x[i]!);
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    if (amax === 0) continue;
    const iscale = fr(-127 / max);
    const d = fr(1 / iscale);
    for (let i = b; i < b + 256; i++) out[i] = d * Math.min(127, roundHalfEven(fr(iscale * fr(x[i]!))));
  }
  return out;
}

/** thinktree's int8 scale of the 32-block at b: d = max|x| / 127 in f32, and its f32 reciprocal. */
function thinktreeBlockScale(x: Float64Array, b: number): { d: number; id: number } {
  let amax = 0;
  for (let i = b; i < b + 32; i++) amax = Math.max(amax, Math.abs(fr(x[i]!)));
  const d = fr(amax / 127);
  return { d, id: d !== 0 ? fr(1 / d) : 0 };
}

/**
 * How close roundActsThinktree's rounding of x comes to a tie: the least |frac(|x·id|) - 1/2| over
 * its elements, in int8 steps. An engine whose f32 activations differ from the f64 reference's by
 * f32 noise (about 1e-6 relative, 1e-4 of a step after scaling by 127) may round an element this
 * close to a tie the other way, and one such flip moves a tiny model's later logits by whole percents.
 */
export function tieDistanceThinktree(x: Float64Array): number {
  let least = 0.5;
  for (let b = 0; b < x.length; b += 32) {
    const { id } = thinktreeBlockScale(x, b);
    for (let i = b; i < b + 32; i++) {
      const v = Math.abs(fr(fr(x[i]!) * id));
      least = Math.min(least, Math.abs(v - Math.floor(v) - 0.5));
    }
  }
  return least;
}

/**
 * thinktree's own int8 activations (native/kernels/cpu/gemm_quant.cc: GEMMs with fewer than 8 rows,
 * and every GEMM on packed weights): blocks of 32, d = max|x| / 127 kept in f32, q = x·(1/d) rounded
 * half away from zero.
 */
export function roundActsThinktree(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let b = 0; b < x.length; b += 32) {
    const { d, id } = thinktreeBlockScale(x, b);
    for (let i = b; i < b + 32; i++) {
      const v = fr(fr(x[i]!) * id);
      out[i] = d * Math.sign(v) * Math.round(Math.abs(v));
    }
  }
  return out;
}
