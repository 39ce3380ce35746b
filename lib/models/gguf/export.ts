/**
 * A Hugging Face directory (config.json, tokenizer.json, safetensors) written as one GGUF file that
 * llama.cpp and thinktree both load: metadata as llama.cpp's converter writes it for `llama`
 * (Llama, Mistral) and `qwen2`, tensors renamed, Q/K rows permuted for `llama`, 1-D tensors (norms,
 * biases) in F32 as llama.cpp keeps them, matrices in the target type.
 */
import path from 'node:path';
import type { NativeTensorSpec } from '../../native/addon-types.js';
import { quantizeRows, type QuantType } from '../quant/index.js';
import { checkpointFor, openCheckpoint } from '../checkpoint.js';
import { PRM_ARCHITECTURES, readModelConfig, type ModelConfig } from '../config.js';
import { GgufError, ModelConfigError } from '../errors.js';
import { readTextFile } from '../files.js';
import { defaultInvFreq } from '../rope.js';
import { TextTokenizer } from '../tokenizer.js';
import { computeRope } from '../rope.js';
import { ggmlTypeByName, type GgufValue } from './format.js';
import { THINKTREE_ARCHITECTURE_KEY, type GgufArchitecture } from './model-config.js';
import { ggufTensorName, isQueryOrKey, ROPE_FREQS_TENSOR } from './names.js';
import { fromF32, permuteRotaryRows, readTensorBytes, toF32 } from './tensor-data.js';
import { tokenizerMetadata } from './tokenizer.js';
import { writeGguf, type GgufTensorInput } from './writer.js';

export const GGUF_TARGET_TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_k', 'q6_k'] as const;
export type GgufTargetType = (typeof GGUF_TARGET_TYPES)[number];

/** llama.cpp's `general.file_type` (`llama_ftype`) of each target. */
const FILE_TYPE: Record<GgufTargetType, number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7, q4_k: 15, q6_k: 18, bf16: 32 };

const ARCH_OF: Partial<Record<ModelConfig['architecture'], GgufArchitecture>> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  Qwen2ForProcessRewardModel: 'qwen2',
};

export interface ExportGgufOptions {
  /**
   * Type of the matrices; 1-D tensors stay F32. A K-quant matrix whose rows are not a whole number of
   * 256-element blocks takes Q4_0 (for q4_k) or Q8_0 (for q6_k). @default 'bf16'
   */
  type?: GgufTargetType;
  /** `general.name`. @default the directory's name */
  name?: string;
}

/**
 * Per-dimension divisors that make llama.cpp's `rope_freqs` reproduce our llama3 inverse frequencies:
 * factors[i] = default[i] / scaled[i], nudged by an ulp where needed so that default[i] / factors[i]
 * rounds back to exactly scaled[i] (what the GGUF loader computes).
 */
function llama3Factors(config: ModelConfig): Float32Array {
  const base = defaultInvFreq(config.headDim, config.ropeTheta);
  const scaled = computeRope({ headDim: config.headDim, theta: config.ropeTheta, scaling: config.ropeScaling }).invFreq;
  const out = new Float32Array(base.length);
  const f32 = Math.fround;
  for (let i = 0; i < base.length; i++) {
    let f = f32(base[i]! / scaled[i]!);
    for (let step = 0; step < 4 && f32(base[i]! / f) !== scaled[i]; step++) {
      f = f32(base[i]! / f) > scaled[i]! ? f32(f * (1 + 2 ** -23)) : f32(f * (1 - 2 ** -24));
    }
    out[i] = f;
  }
  return out;
}

function modelMetadata(config: ModelConfig, arch: GgufArchitecture, type: GgufTargetType, name: string, file: string): Array<[string, GgufValue]> {
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const f32 = (value: number): GgufValue => ({ type: 'f32', value });
  const k = (key: string) => `${arch}.${key}`;
  const out: Array<[string, GgufValue]> = [
    ['general.architecture', { type: 'string', value: arch }],
    ['general.name', { type: 'string', value: name }],
    ['general.file_type', u32(FILE_TYPE[type])],
  ];
  if (type.startsWith('q')) out.push(['general.quantization_version', u32(2)]);
  if (config.maxPositionEmbeddings !== undefined) out.push([k('context_length'), u32(config.maxPositionEmbeddings)]);
  out.push(
    [k('embedding_length'), u32(config.hiddenSize)],
    [k('block_count'), u32(config.numLayers)],
    [k('feed_forward_length'), u32(config.intermediateSize)],
    [k('attention.head_count'), u32(config.numHeads)],
    [k('attention.head_count_kv'), u32(config.numKvHeads)],
    [k('attention.key_length'), u32(config.headDim)],
    [k('attention.value_length'), u32(config.headDim)],
    [k('rope.dimension_count'), u32(config.headDim)],
    [k('rope.freq_base'), f32(config.ropeTheta)],
    [k('attention.layer_norm_rms_epsilon'), f32(config.rmsNormEps)],
    [k('vocab_size'), u32(config.vocabSize)],
  );
  if (config.ropeScaling.type === 'linear') {
    out.push([k('rope.scaling.type'), { type: 'string', value: 'linear' }], [k('rope.scaling.factor'), f32(config.ropeScaling.factor)]);
  }
  const windows = new Set(config.slidingWindow.filter((w) => w > 0));
  if (windows.size > 1) {
    throw new GgufError(file, `has sliding windows of different lengths (${[...windows].join(', ')}); GGUF's ${k('attention.sliding_window')} holds one`);
  }
  const [window] = windows;
  if (window !== undefined) {
    out.push([k('attention.sliding_window'), u32(window)]);
    // Which layers slide, when not all do (llama.cpp's per-layer bool array of the same name).
    if (config.slidingWindow.includes(0)) {
      out.push([k('attention.sliding_window_pattern'), { type: 'array', itemType: 'bool', value: config.slidingWindow.map((w) => w > 0) }]);
    }
  }
  return out;
}

/** tokenizer.json, tokenizer_config.json and chat_template.jinja, as TextTokenizer.fromDirectory reads them. */
async function readTokenizerFiles(dir: string): Promise<{ json: unknown; config: Record<string, unknown> }> {
  const tok = await TextTokenizer.fromDirectory(dir);
  const json = JSON.parse(await readTextFile(path.join(dir, 'tokenizer.json'), 'read the tokenizer')) as unknown;
  return { json, config: { ...tok.tokenizerConfig } };
}

/**
 * The type a matrix of `cols` columns is written in: the target, or for a row that is not a whole
 * number of 256-element K blocks the 32-element type of the same family (Q4_K → Q4_0, Q6_K → Q8_0,
 * as quantize-on-load does), or the source type when not even 32 divides it.
 */
function matrixType(type: GgufTargetType, cols: number, source: string): string {
  const want = type.toUpperCase();
  const fits = (name: string) => cols % ggmlTypeByName(name)!.blockSize === 0;
  if (fits(want)) return want;
  const fallback = want === 'Q4_K' ? 'Q4_0' : want === 'Q6_K' ? 'Q8_0' : want;
  return fits(fallback) ? fallback : source;
}

/**
 * The bytes of one tensor in the file: renamed, converted, permuted for `llama`. A reward head's
 * tensors (`head`) keep their Hugging Face names and their precision (1-D ones become F32).
 */
function tensorInput(t: NativeTensorSpec, file: string, config: ModelConfig, arch: GgufArchitecture, type: GgufTargetType, head = false): GgufTensorInput {
  const matrix = t.shape.length === 2;
  const target = !matrix ? 'F32' : head ? t.dtype : matrixType(type, t.shape[1]!, t.dtype);
  const ggml = ggmlTypeByName(target)!;
  const qk = arch === 'llama' ? isQueryOrKey(t.name) : undefined;
  const read = async (): Promise<Uint8Array> => {
    const raw = await readTensorBytes(file, t);
    let bytes: Uint8Array;
    if (t.dtype === target) bytes = raw; // same type: the bytes as they are (a BF16 file stays bit-identical)
    else if (ggml.blockSize === 1) bytes = fromF32(toF32(raw, t.dtype), target);
    else bytes = quantizeRows(target.toLowerCase() as QuantType, toF32(raw, t.dtype), t.shape[0]!, t.shape[1]!);
    if (qk === undefined) return bytes;
    const heads = qk === 'q' ? config.numHeads : config.numKvHeads;
    return permuteRotaryRows(bytes, heads, config.headDim, bytes.length / t.shape[0]!);
  };
  return { name: ggufTensorName(t.name), type: target, shape: t.shape, read };
}

/** Writes the model in `dir` as a GGUF file at `out`. */
export async function exportGguf(dir: string, out: string, options: ExportGgufOptions = {}): Promise<void> {
  const type = options.type ?? 'bf16';
  if (!(GGUF_TARGET_TYPES as readonly string[]).includes(type)) {
    throw new TypeError(`Expected \`type\` to be one of ${GGUF_TARGET_TYPES.join(', ')}, got ${String(type)}`);
  }
  const { config } = await readModelConfig(dir);
  const configFile = path.join(dir, 'config.json');
  const arch = ARCH_OF[config.architecture];
  if (arch === undefined) {
    throw new ModelConfigError(configFile, `architecture ${config.architecture} has no GGUF form here; thinktree writes Llama, Mistral and Qwen2 causal LMs`, 'architectures');
  }
  if (config.ropeScaling.type === 'freq-factors') throw new ModelConfigError(configFile, 'unexpected frequency-factor RoPE scaling in a config.json');
  const index = await openCheckpoint(dir);
  // A reward model has no lm_head: its backbone is located as if tied, its head tensors below.
  const ckpt = checkpointFor(index, config.hasLmHead ? config : { ...config, tieWordEmbeddings: true });
  const backbone = new Set(ckpt.tensors.map((t) => t.name));
  const heads: NativeTensorSpec[] = [];
  for (const [name, { file, entry }] of index.where) {
    // Tensors outside the decoder (score.*, v_head.*); a stray lm_head of a tied model is ignored, as at load.
    if (backbone.has(name) || name.startsWith('model.') || name === 'lm_head.weight') continue;
    if (!['F32', 'F16', 'BF16'].includes(entry.dtype)) throw new GgufError(index.files[file]!, `tensor ${name} has dtype ${entry.dtype}; expected F32, F16 or BF16`, name);
    const [begin, end] = entry.dataOffsets;
    heads.push({ name, file, dtype: entry.dtype as 'F32', shape: [...entry.shape], offset: index.headers[file]!.dataStart + begin, byteLength: end - begin });
  }
  const tok = await readTokenizerFiles(dir);
  const metadata = [
    ...modelMetadata(config, arch, type, options.name ?? path.basename(path.resolve(dir)), configFile),
    ...((PRM_ARCHITECTURES as readonly string[]).includes(config.architecture)
      ? [[THINKTREE_ARCHITECTURE_KEY, { type: 'string', value: config.architecture }] as [string, GgufValue]]
      : []),
    ...tokenizerMetadata({
      tokenizerJson: tok.json,
      tokenizerConfig: tok.config,
      vocabSize: config.vocabSize,
      bosTokenId: config.bosTokenId,
      eosTokenIds: config.eosTokenIds,
      file: path.join(dir, 'tokenizer.json'),
    }),
  ];
  const tensors: GgufTensorInput[] = [];
  if (config.ropeScaling.type === 'llama3') {
    tensors.push({ name: ROPE_FREQS_TENSOR, type: 'F32', shape: [config.headDim / 2], data: llama3Factors(config) });
  }
  for (const t of ckpt.tensors) tensors.push(tensorInput(t, ckpt.files[t.file]!, config, arch, type));
  for (const t of heads) tensors.push(tensorInput(t, ckpt.files[t.file]!, config, arch, type, true));
  await writeGguf(out, metadata, tensors);
}
