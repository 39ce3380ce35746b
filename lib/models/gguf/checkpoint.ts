/**
 * A GGUF file's tensors located for native code: every tensor the decoder needs (by its Hugging Face
 * name, shape checked against the metadata), in a type the kernels read, and no layer tensor the
 * decoder would silently leave out. The weights are mapped in place, from the file, as with safetensors.
 */
import type { DTypeName, NativeHeadSpec, NativeTensorSpec } from '../../native/addon-types.js';
import { nativeAddon } from '../../native/load.js';
import { expectedTensors, type Checkpoint, type CheckpointIndex } from '../checkpoint.js';
import type { ModelConfig } from '../config.js';
import { GgufError } from '../errors.js';
import { ggufTensorName, hfTensorName, ROPE_FREQS_TENSOR } from './names.js';
import type { GgufFile } from './reader.js';

/** Types every build of the addon reads. */
export const FLOAT_WEIGHT_TYPES: readonly string[] = ['F32', 'F16', 'BF16'];
/** ggml block-quantized types thinktree's kernels read once the addon has them (see nativeWeightTypes). */
export const QUANT_WEIGHT_TYPES: readonly string[] = ['Q8_0', 'Q4_0', 'Q4_K', 'Q6_K'];

/**
 * The weight types this build of the addon reads: the float types, plus the quantized ones when the
 * addon carries the quantized kernels (it then exports `quantize`).
 */
export function nativeWeightTypes(): string[] {
  const addon = nativeAddon() as unknown as Record<string, unknown>;
  return typeof addon.quantize === 'function' ? [...FLOAT_WEIGHT_TYPES, ...QUANT_WEIGHT_TYPES] : [...FLOAT_WEIGHT_TYPES];
}

const showShape = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * The file's tensors under their Hugging Face names, shaped as the safetensors index a PRM head
 * chooser reads (names and shapes). Block-quantized tensors appear as raw bytes (U8).
 */
export function ggufCheckpointIndex(gguf: GgufFile): CheckpointIndex {
  const where: CheckpointIndex['where'] = new Map();
  for (const t of gguf.tensors.values()) {
    const name = hfTensorName(t.name) ?? t.name;
    const dtype = FLOAT_WEIGHT_TYPES.includes(t.type.name) ? (t.type.name as 'F32' | 'F16' | 'BF16') : 'U8';
    where.set(name, { file: 0, entry: { name, dtype, shape: [...t.shape], dataOffsets: [t.offset, t.offset + t.byteLength] } });
  }
  return { files: [gguf.file], headers: [], where, source: gguf.file };
}

export function ggufCheckpoint(
  gguf: GgufFile,
  config: ModelConfig,
  head?: NativeHeadSpec,
  weightTypes: readonly string[] = nativeWeightTypes(),
): Checkpoint {
  const used = new Set<string>([ROPE_FREQS_TENSOR]);
  const tensors: NativeTensorSpec[] = [];
  for (const want of expectedTensors(config, head)) {
    const name = ggufTensorName(want.name);
    const t = gguf.tensors.get(name);
    if (t === undefined) {
      throw new GgufError(gguf.file, `missing tensor ${JSON.stringify(name)} (${want.name}, expected shape ${showShape(want.shape)} for ${config.architecture})`, name);
    }
    used.add(name);
    if (t.shape.length !== want.shape.length || t.shape.some((d, i) => d !== want.shape[i])) {
      throw new GgufError(
        gguf.file,
        `tensor ${JSON.stringify(name)} has shape ${showShape(t.shape)} (ggml dims ${showShape(t.ne)}), expected ${showShape(want.shape)} from the metadata`,
        name,
      );
    }
    if (!weightTypes.includes(t.type.name)) {
      const later = QUANT_WEIGHT_TYPES.includes(t.type.name) ? ' (this build of the addon has no quantized kernels)' : '';
      throw new GgufError(gguf.file, `tensor ${JSON.stringify(name)} has type ${t.type.name}; thinktree loads ${weightTypes.join(', ')}${later}`, name);
    }
    tensors.push({
      name: want.name,
      file: 0,
      dtype: t.type.name as DTypeName,
      shape: [...want.shape],
      offset: gguf.dataStart + t.offset,
      byteLength: t.byteLength,
    });
  }
  // As with safetensors: a layer tensor the decoder does not read means the layer computes something it
  // would silently leave out; tensors outside the layers (an lm_head a reward head ignores, a head the
  // policy ignores) may stay unread.
  for (const name of gguf.tensors.keys()) {
    if (!used.has(name) && name.startsWith('blk.')) {
      throw new GgufError(gguf.file, `has tensor ${JSON.stringify(name)}, which ${config.architecture} as this file's metadata describes it does not read; expected only the decoder's own tensors`, name);
    }
  }
  return { files: [gguf.file], tensors, weightBytes: tensors.reduce((s, t) => s + t.byteLength, 0) };
}
