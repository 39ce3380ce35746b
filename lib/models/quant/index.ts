/**
 * ggml's block quantizations of weight rows (Q8_0, Q4_0, Q4_K, Q6_K), computed by the native addon:
 * the bytes are laid out exactly as ggml lays out its blocks, so they can go into a GGUF file and be
 * read by llama.cpp, and blocks from a GGUF file decode here as they do there.
 */
import { OptionError } from '../../errors.js';
import type { QuantDTypeName } from '../../native/addon-types.js';
import { nativeAddon } from '../../native/load.js';

/** A block quantization, as the `weights` load option and `thinktree convert --to` spell it. */
export type QuantType = 'q8_0' | 'q4_0' | 'q4_k' | 'q6_k';

/** Every QuantType, in order of size per weight (largest first). */
export const QUANT_TYPES: readonly QuantType[] = ['q8_0', 'q6_k', 'q4_k', 'q4_0'];

/** Elements per block and bytes per block of each type (ggml's QK and sizeof(block_*)). */
export const QUANT_BLOCK: Readonly<Record<QuantType, { elements: number; bytes: number }>> = {
  q8_0: { elements: 32, bytes: 34 },
  q4_0: { elements: 32, bytes: 18 },
  q4_k: { elements: 256, bytes: 144 },
  q6_k: { elements: 256, bytes: 210 },
};

/** The native dtype name of a QuantType ('q4_k' → 'Q4_K'), as NativeTensorSpec.dtype spells it. */
export function quantDTypeName(type: QuantType): QuantDTypeName {
  return type.toUpperCase() as QuantDTypeName;
}

/** `value` as a QuantType, or OptionError naming `what` and listing the allowed values. */
export function checkQuantType(value: unknown, what: string): QuantType {
  if (typeof value === 'string' && (QUANT_TYPES as readonly string[]).includes(value)) return value as QuantType;
  throw new OptionError(
    `Expected \`${what}\` to be one of ${QUANT_TYPES.map((t) => `'${t}'`).join(', ')}, got ${JSON.stringify(value) ?? String(value)}`,
  );
}

/** Bytes of `rows` rows of `cols` elements in `type` (cols a multiple of the block, else OptionError). */
export function quantizedBytes(type: QuantType, rows: number, cols: number): number {
  const { elements, bytes } = QUANT_BLOCK[checkQuantType(type, 'type')];
  if (!Number.isInteger(cols) || cols <= 0 || cols % elements !== 0) {
    throw new OptionError(`Expected \`cols\` to be a positive multiple of ${elements} (the ${type} block), got ${String(cols)}`);
  }
  return rows * (cols / elements) * bytes;
}

/**
 * [rows, cols] row-major floats as `type` blocks, row after row: rows × (cols / block) × block bytes.
 * Q8_0 and Q4_0 are ggml's reference quantizers exactly; Q4_K and Q6_K search each sub-block's scale
 * (and min) by weighted least squares as ggml's do (native/kernels/cpu/quantize.h says how).
 */
export function quantizeRows(type: QuantType, data: Float32Array, rows: number, cols: number): Uint8Array {
  return nativeAddon().quantize(quantDTypeName(checkQuantType(type, 'type')), data, rows, cols);
}

/** `type` blocks back to [rows, cols] floats, by ggml's definition of the type. */
export function dequantizeRows(type: QuantType, bytes: Uint8Array, rows: number, cols: number): Float32Array {
  return nativeAddon().dequantize(quantDTypeName(checkQuantType(type, 'type')), bytes, rows, cols);
}
