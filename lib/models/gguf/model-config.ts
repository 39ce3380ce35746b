/**
 * GGUF metadata → the ModelConfig the safetensors path builds from config.json, for the architectures
 * llama.cpp names `llama` (Llama 2/3, Mistral) and `qwen2`. Keys are `<arch>.<name>` as llama.cpp's
 * converter writes them; what config.json leaves to transformers' defaults, llama.cpp leaves to its own,
 * and those agree for these two architectures (rope theta 10000, kv heads = heads, head_dim =
 * hidden / heads).
 */
import { GgufError } from '../errors.js';
import { MAX_RMS_NORM_EPS, PRM_ARCHITECTURES, type Architecture, type ModelConfig, type RopeScaling } from '../config.js';
import { GgufMetadata } from './metadata.js';
import type { GgufFile } from './reader.js';
import { ROPE_FREQS_TENSOR } from './names.js';

export const GGUF_ARCHITECTURES = ['llama', 'qwen2'] as const;
export type GgufArchitecture = (typeof GGUF_ARCHITECTURES)[number];

/**
 * Our own metadata key: the transformers class when it is not the architecture's causal LM (a reward
 * model such as Qwen2ForProcessRewardModel, whose head tensors keep their Hugging Face names). llama.cpp
 * does not read such files.
 */
export const THINKTREE_ARCHITECTURE_KEY = 'thinktree.architecture';

/** The PRM classes a GGUF architecture may carry (their decoder is that architecture's). */
const PRM_ON: Readonly<Record<GgufArchitecture, readonly Architecture[]>> = { llama: [], qwen2: ['Qwen2ForProcessRewardModel'] };

/** The transformers class each GGUF architecture corresponds to. */
export const HF_ARCHITECTURE_OF: Readonly<Record<GgufArchitecture, Architecture>> = {
  llama: 'LlamaForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
};

export interface GgufModelConfig {
  arch: GgufArchitecture;
  config: ModelConfig;
  /**
   * Q/K rows hold each head's rotary pairs adjacent (llama.cpp permutes them for `llama` so its
   * GPT-J-style RoPE reproduces Hugging Face's rotate-half; `qwen2` keeps the Hugging Face order).
   */
  ropeInterleaved: boolean;
}

export function ggufArchitecture(meta: GgufMetadata): GgufArchitecture {
  const arch = meta.requiredString('general.architecture');
  if (!(GGUF_ARCHITECTURES as readonly string[]).includes(arch)) {
    throw new GgufError(
      meta.file,
      `architecture ${JSON.stringify(arch)} (metadata "general.architecture") is not supported; thinktree runs GGUF architectures ${GGUF_ARCHITECTURES.join(', ')}`,
      'general.architecture',
    );
  }
  return arch as GgufArchitecture;
}

function ropeScaling(meta: GgufMetadata, arch: string, factors: Float32Array | undefined): RopeScaling {
  const typeKey = `${arch}.rope.scaling.type`;
  const type = meta.string(typeKey) ?? (meta.has(`${arch}.rope.scale_linear`) ? 'linear' : 'none');
  let scaling: RopeScaling;
  switch (type) {
    case 'none':
      scaling = { type: 'default' };
      break;
    case 'linear': {
      const key = meta.has(`${arch}.rope.scaling.factor`) ? `${arch}.rope.scaling.factor` : `${arch}.rope.scale_linear`;
      const factor = meta.number(key);
      if (!(factor > 0)) throw meta.fail(key, `must be a positive number, got ${factor}`);
      scaling = factor === 1 ? { type: 'default' } : { type: 'linear', factor };
      break;
    }
    default:
      throw meta.fail(typeKey, `is ${JSON.stringify(type)}; thinktree supports RoPE scaling none and linear (and Llama 3.1's ${ROPE_FREQS_TENSOR} tensor)`);
  }
  if (factors === undefined) return scaling;
  if (scaling.type !== 'default') {
    throw new GgufError(meta.file, `has both ${typeKey} ${JSON.stringify(type)} and a ${ROPE_FREQS_TENSOR} tensor; thinktree applies one RoPE scaling`, typeKey);
  }
  return { type: 'freq-factors', factors };
}

/**
 * Reads the decoder's hyper-parameters. `vocabRows` is the row count of `token_embd.weight` (the
 * embedding is the authority on the vocabulary size, as in llama.cpp); `ropeFactors` the contents of
 * `rope_freqs.weight` when the file has one.
 */
export function ggufModelConfig(gguf: GgufFile, vocabRows: number, ropeFactors?: Float32Array): GgufModelConfig {
  const meta = new GgufMetadata(gguf);
  const arch = ggufArchitecture(meta);
  const k = (name: string) => `${arch}.${name}`;
  const hiddenSize = meta.positiveCount(k('embedding_length'));
  const numHeads = meta.positiveCount(k('attention.head_count'));
  const numKvHeads = meta.positiveCount(k('attention.head_count_kv'), numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw meta.fail(k('attention.head_count_kv'), `(${numKvHeads}) must divide ${k('attention.head_count')} (${numHeads})`);
  }
  if (!meta.has(k('attention.key_length')) && hiddenSize % numHeads !== 0) {
    throw meta.fail(k('attention.key_length'), `is absent and ${k('embedding_length')} (${hiddenSize}) is not a multiple of the head count (${numHeads})`);
  }
  const headDim = meta.positiveCount(k('attention.key_length'), hiddenSize / numHeads);
  const valueLength = meta.positiveCount(k('attention.value_length'), headDim);
  if (valueLength !== headDim) {
    throw meta.fail(k('attention.value_length'), `is ${valueLength} but the key length is ${headDim}; thinktree needs equal key and value head sizes`);
  }
  if (headDim % 2 !== 0) throw meta.fail(k('attention.key_length'), `must be even for rotary embeddings, got ${headDim}`);
  const ropeDims = meta.positiveCount(k('rope.dimension_count'), headDim);
  if (ropeDims !== headDim) {
    throw meta.fail(k('rope.dimension_count'), `is ${ropeDims} but the head size is ${headDim}; thinktree rotates the full head only`);
  }
  const declaredVocab = meta.optionalCount(k('vocab_size'));
  if (declaredVocab !== undefined && declaredVocab !== vocabRows) {
    throw meta.fail(k('vocab_size'), `is ${declaredVocab} but token_embd.weight has ${vocabRows} rows`);
  }
  const rmsNormEps = meta.number(k('attention.layer_norm_rms_epsilon'));
  if (!(rmsNormEps > 0 && rmsNormEps <= MAX_RMS_NORM_EPS)) {
    throw meta.fail(k('attention.layer_norm_rms_epsilon'), `must be in (0, ${MAX_RMS_NORM_EPS}], got ${rmsNormEps}`);
  }
  const ropeTheta = meta.number(k('rope.freq_base'), 10000);
  if (!(ropeTheta > 1)) throw meta.fail(k('rope.freq_base'), `must be a finite number > 1, got ${ropeTheta}`);
  const numLayers = meta.positiveCount(k('block_count'));
  const window = meta.count(k('attention.sliding_window'), 0);
  const pattern = meta.array(k('attention.sliding_window_pattern'), ['bool']);
  if (pattern !== undefined && pattern.length !== numLayers) {
    throw meta.fail(k('attention.sliding_window_pattern'), `has ${pattern.length} entries, expected one per layer (${numLayers})`);
  }
  const eos = [meta.optionalCount('tokenizer.ggml.eos_token_id'), meta.optionalCount('tokenizer.ggml.eot_token_id')];
  const eosTokenIds = [...new Set(eos.filter((id): id is number => id !== undefined))];
  const outside = eosTokenIds.find((id) => id >= vocabRows);
  if (outside !== undefined) {
    throw new GgufError(gguf.file, `eos token id ${outside} is outside the vocabulary (token_embd.weight has ${vocabRows} rows)`, 'tokenizer.ggml.eos_token_id');
  }
  const declared = meta.string(THINKTREE_ARCHITECTURE_KEY);
  if (declared !== undefined && declared !== HF_ARCHITECTURE_OF[arch] && !PRM_ON[arch].includes(declared as Architecture)) {
    throw meta.fail(THINKTREE_ARCHITECTURE_KEY, `is ${JSON.stringify(declared)}; on a ${arch} decoder thinktree runs ${[HF_ARCHITECTURE_OF[arch], ...PRM_ON[arch]].join(', ')}`);
  }
  const architecture = (declared ?? HF_ARCHITECTURE_OF[arch]) as Architecture;
  const config: ModelConfig = {
    architecture,
    hasLmHead: !(PRM_ARCHITECTURES as readonly string[]).includes(architecture),
    hiddenSize,
    intermediateSize: meta.positiveCount(k('feed_forward_length')),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: vocabRows,
    rmsNormEps,
    ropeTheta,
    ropeScaling: ropeScaling(meta, arch, ropeFactors),
    maxPositionEmbeddings: meta.optionalCount(k('context_length')),
    // llama.cpp reuses token_embd for the output when a file has no output.weight.
    tieWordEmbeddings: !gguf.tensors.has('output.weight'),
    attentionBias: arch === 'qwen2',
    // Every layer slides unless the per-layer pattern says which do.
    slidingWindow: Array.from({ length: numLayers }, (_, i) => (pattern === undefined || pattern[i] === true ? window : 0)),
    eosTokenIds,
    bosTokenId: meta.optionalCount('tokenizer.ggml.bos_token_id'),
  };
  return { arch, config, ropeInterleaved: arch === 'llama' };
}
