/**
 * config.json (and generation_config.json) → a typed, validated ModelConfig.
 *
 * Defaults follow the current Hugging Face transformers configuration classes (LlamaConfig,
 * Qwen2Config, MistralConfig) so that a checkpoint means here what it means there. Required fields are
 * the ones every real checkpoint writes; transformers has class defaults for them, but a config.json
 * without `hidden_size` is broken, not a 4096-wide model.
 */
import path from 'node:path';
import { ModelConfigError, UnsupportedArchitectureError } from './errors.js';
import { readTextFile } from './files.js';
import type { NativeModelSpec } from '../native/addon-types.js';

export const SUPPORTED_ARCHITECTURES = ['LlamaForCausalLM', 'Qwen2ForCausalLM', 'MistralForCausalLM'] as const;
/**
 * Reward-model architectures on a supported backbone (loaded with loadPrm, not as a policy):
 * Qwen2.5-Math-PRM is a Qwen2 decoder with a two-class `score` head and no lm_head.
 */
export const PRM_ARCHITECTURES = ['Qwen2ForProcessRewardModel'] as const;
/**
 * Outcome reward models (loaded with loadRewardModel): a decoder whose `score` head reads the last
 * token. Qwen2ForRewardModel (Qwen2.5-Math-RM): `score` = Linear(h, h) + ReLU + Linear(h, 1);
 * Llama/Qwen2ForSequenceClassification (transformers): `score` = Linear(h, num_labels), no bias.
 */
export const ORM_ARCHITECTURES = ['Qwen2ForRewardModel', 'LlamaForSequenceClassification', 'Qwen2ForSequenceClassification'] as const;
export type OrmArchitecture = (typeof ORM_ARCHITECTURES)[number];
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number] | (typeof PRM_ARCHITECTURES)[number] | OrmArchitecture;

/** Whether the architecture is a reward model with a `score` head in place of the language-model head. */
export function isRewardArchitecture(arch: Architecture): boolean {
  return (PRM_ARCHITECTURES as readonly string[]).includes(arch) || (ORM_ARCHITECTURES as readonly string[]).includes(arch);
}

/** The decoder family underneath: reward models share their base model's config rules. */
function backboneOf(arch: Architecture): 'llama' | 'qwen2' | 'mistral' {
  if (arch === 'LlamaForCausalLM' || arch === 'LlamaForSequenceClassification') return 'llama';
  if (arch === 'MistralForCausalLM') return 'mistral';
  return 'qwen2';
}

export const SUPPORTED_ROPE_TYPES = ['default', 'linear', 'llama3'] as const;

export type RopeScaling =
  | { type: 'default' }
  /** Positions divided by `factor` (equivalently, inverse frequencies). */
  | { type: 'linear'; factor: number }
  /** Llama 3.1 wavelength-dependent interpolation. */
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    }
  /**
   * Per-dimension divisors of the inverse frequencies ([headDim / 2]): how llama.cpp stores Llama 3.1
   * scaling in a GGUF file (the `rope_freqs.weight` tensor), inv_freq[i] = default[i] / factors[i].
   */
  | { type: 'freq-factors'; factors: Float32Array };

/** The decoder's shape: the same fields, with the same meaning, as the native spec built from it. */
export type DecoderShape = Pick<
  NativeModelSpec,
  'hiddenSize' | 'intermediateSize' | 'numLayers' | 'numHeads' | 'numKvHeads' | 'headDim' | 'vocabSize' | 'rmsNormEps'
>;

export interface ModelConfig extends DecoderShape {
  architecture: Architecture;
  /** The checkpoint has an output projection to the vocabulary (false for Qwen2ForProcessRewardModel). */
  hasLmHead: boolean;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  maxPositionEmbeddings: number | undefined;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry biases (always for Qwen2; never for Llama and Mistral here). */
  attentionBias: boolean;
  /**
   * [numLayers] sliding-window length W per layer, 0 = full causal attention. As in transformers'
   * `sliding_window_overlay`, a query at position p attends keys at positions (p − W, p]: W keys,
   * itself included.
   */
  slidingWindow: number[];
  /** config.json's eos_token_id united with generation_config.json's, in first-seen order. */
  eosTokenIds: number[];
  bosTokenId: number | undefined;
}

/** The sampling defaults a checkpoint ships in generation_config.json (all optional). */
export interface GenerationConfig {
  eosTokenIds: number[];
  bosTokenId?: number;
  padTokenId?: number;
  doSample?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repetitionPenalty?: number;
  maxNewTokens?: number;
}

const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v));

/** Typed access to one JSON object, with errors that name the file and the field. */
class Fields {
  constructor(
    readonly file: string,
    private readonly obj: Record<string, unknown>,
    private readonly prefix = '',
  ) {}

  private err(field: string, msg: string): ModelConfigError {
    return new ModelConfigError(this.file, `field "${this.prefix}${field}" ${msg}`, this.prefix + field);
  }

  /** null counts as absent: transformers writes `"sliding_window": null` for "not set". */
  has(field: string): boolean {
    return Object.hasOwn(this.obj, field) && this.obj[field] !== null;
  }

  /** Present and explicitly null. */
  isNull(field: string): boolean {
    return Object.hasOwn(this.obj, field) && this.obj[field] === null;
  }

  raw(field: string): unknown {
    return this.has(field) ? this.obj[field] : undefined;
  }

  private need(field: string): unknown {
    if (!this.has(field)) throw new ModelConfigError(this.file, `missing required field "${this.prefix}${field}"`, this.prefix + field);
    return this.obj[field];
  }

  positiveInt(field: string, fallback?: number): number {
    if (fallback !== undefined && !this.has(field)) return fallback;
    const v = this.need(field);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw this.err(field, `must be a positive integer, got ${show(v)}`);
    return v;
  }

  nonNegativeInt(field: string, fallback: number): number {
    if (!this.has(field)) return fallback;
    const v = this.obj[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw this.err(field, `must be a non-negative integer, got ${show(v)}`);
    return v;
  }

  positiveNumber(field: string, fallback?: number): number {
    if (fallback !== undefined && !this.has(field)) return fallback;
    const v = this.need(field);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw this.err(field, `must be a positive number, got ${show(v)}`);
    return v;
  }

  optionalNumber(field: string, check: (v: number) => boolean, what: string): number | undefined {
    if (!this.has(field)) return undefined;
    const v = this.obj[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) throw this.err(field, `must be ${what}, got ${show(v)}`);
    return v;
  }

  bool(field: string, fallback: boolean): boolean {
    if (!this.has(field)) return fallback;
    const v = this.obj[field];
    if (typeof v !== 'boolean') throw this.err(field, `must be true or false, got ${show(v)}`);
    return v;
  }

  string(field: string): string | undefined {
    if (!this.has(field)) return undefined;
    const v = this.obj[field];
    if (typeof v !== 'string') throw this.err(field, `must be a string, got ${show(v)}`);
    return v;
  }

  /** A token id or a list of them (eos_token_id may be either). */
  tokenIds(field: string): number[] {
    if (!this.has(field)) return [];
    const v = this.obj[field];
    const list = Array.isArray(v) ? v : [v];
    for (const id of list) {
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
        throw this.err(field, `must be a token id or a list of token ids (non-negative integers), got ${show(v)}`);
      }
    }
    return list as number[];
  }

  tokenId(field: string): number | undefined {
    if (!this.has(field)) return undefined;
    const v = this.obj[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw this.err(field, `must be a token id (a non-negative integer), got ${show(v)}`);
    return v;
  }

  object(field: string): Fields | undefined {
    if (!this.has(field)) return undefined;
    const v = this.obj[field];
    if (typeof v !== 'object' || Array.isArray(v)) throw this.err(field, `must be an object or null, got ${show(v)}`);
    return new Fields(this.file, v as Record<string, unknown>, `${this.prefix}${field}.`);
  }
}

function asObject(json: unknown, file: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelConfigError(file, `must hold a JSON object, got ${Array.isArray(json) ? 'an array' : show(json)}`);
  }
  return json as Record<string, unknown>;
}

function parseArchitecture(f: Fields): Architecture {
  const list = f.raw('architectures');
  if (list === undefined) throw new ModelConfigError(f.file, 'missing required field "architectures"', 'architectures');
  if (!Array.isArray(list) || list.length === 0 || typeof list[0] !== 'string') {
    throw new ModelConfigError(f.file, `field "architectures" must be a non-empty list of names, got ${show(list)}`, 'architectures');
  }
  const arch = list[0];
  const known: readonly string[] = [...SUPPORTED_ARCHITECTURES, ...PRM_ARCHITECTURES, ...ORM_ARCHITECTURES];
  if (!known.includes(arch)) {
    throw new UnsupportedArchitectureError(f.file, arch, SUPPORTED_ARCHITECTURES);
  }
  return arch as Architecture;
}

/** `rope_scaling` (transformers ≤ 4.x) or the newer `rope_parameters`, which also carries rope_theta. */
function parseRope(f: Fields): { theta: number; scaling: RopeScaling } {
  const params = f.object('rope_parameters');
  if (params !== undefined && (params.has('full_attention') || params.has('sliding_attention'))) {
    throw new ModelConfigError(f.file, 'field "rope_parameters" gives per-layer-type RoPE settings, which thinktree does not support', 'rope_parameters');
  }
  const scaling = params ?? f.object('rope_scaling');
  const theta = params?.has('rope_theta') ? params.positiveNumber('rope_theta') : f.positiveNumber('rope_theta', 10000);
  if (!(theta > 1)) {
    // θ ≤ 1 makes every inverse frequency θ^(-2i/d) ≥ 1: no slow dimensions, positions alias at once.
    const field = params?.has('rope_theta') ? 'rope_parameters.rope_theta' : 'rope_theta';
    throw new ModelConfigError(f.file, `field "${field}" must be a finite number > 1, got ${theta}`, field);
  }
  if (scaling === undefined) return { theta, scaling: { type: 'default' } };
  const field = params ? 'rope_parameters' : 'rope_scaling';
  const type = scaling.string('rope_type') ?? scaling.string('type') ?? 'default';
  switch (type) {
    case 'default':
      return { theta, scaling: { type } };
    case 'linear':
      return { theta, scaling: { type, factor: scaling.positiveNumber('factor') } };
    case 'llama3': {
      const lowFreqFactor = scaling.positiveNumber('low_freq_factor');
      const highFreqFactor = scaling.positiveNumber('high_freq_factor');
      if (!(highFreqFactor > lowFreqFactor)) {
        throw new ModelConfigError(
          f.file,
          `field "${field}.high_freq_factor" must exceed low_freq_factor, got high ${highFreqFactor} and low ${lowFreqFactor}`,
          `${field}.high_freq_factor`,
        );
      }
      return {
        theta,
        scaling: {
          type,
          factor: scaling.positiveNumber('factor'),
          lowFreqFactor,
          highFreqFactor,
          originalMaxPositionEmbeddings: scaling.positiveInt('original_max_position_embeddings'),
        },
      };
    }
    default:
      throw new ModelConfigError(
        f.file,
        `${field} type ${JSON.stringify(type)} is not supported; thinktree supports ${SUPPORTED_ROPE_TYPES.join(', ')}`,
        field,
      );
  }
}

/**
 * Per-layer sliding windows, as transformers decides them:
 * - Llama: none.
 * - Mistral: `sliding_window` on every layer. Absent means transformers' MistralConfig default, 4096;
 *   `null` means none (Mistral 7B v0.2+ ships null).
 * - Qwen2 (Qwen2Config.__post_init__): the window exists only when `use_sliding_window` (default
 *   false); then `sliding_window` (default 4096) applies to the layers that `layer_types` marks
 *   "sliding_attention", or, without layer_types, to layers with index ≥ `max_window_layers`
 *   (default 28). Qwen2.5 checkpoints ship use_sliding_window false: full attention everywhere.
 */
function parseSlidingWindow(f: Fields, arch: Architecture, numLayers: number): number[] {
  const none = new Array<number>(numLayers).fill(0);
  if (backboneOf(arch) === 'llama') return none;
  const windowOf = (): number => {
    if (f.isNull('sliding_window')) return 0;
    return f.positiveInt('sliding_window', 4096);
  };
  if (backboneOf(arch) === 'mistral') return none.fill(windowOf());
  if (!f.bool('use_sliding_window', false)) return none;
  const window = windowOf();
  if (window === 0) return none;
  const types = f.raw('layer_types');
  if (types !== undefined) {
    if (!Array.isArray(types) || types.length !== numLayers || !types.every((t) => t === 'full_attention' || t === 'sliding_attention')) {
      throw new ModelConfigError(
        f.file,
        `field "layer_types" must list "full_attention" or "sliding_attention" for each of the ${numLayers} layers, got ${show(types)}`,
        'layer_types',
      );
    }
    return types.map((t) => (t === 'sliding_attention' ? window : 0));
  }
  const firstWindowed = f.nonNegativeInt('max_window_layers', 28);
  return none.map((_, i) => (i >= firstWindowed ? window : 0));
}

/** Largest `rms_norm_eps` accepted: real checkpoints use 1e-6 or 1e-5; beyond 1e-2 the eps dominates small activations. */
export const MAX_RMS_NORM_EPS = 1e-2;

function parseRmsNormEps(f: Fields): number {
  const eps = f.positiveNumber('rms_norm_eps');
  if (eps > MAX_RMS_NORM_EPS) {
    throw new ModelConfigError(f.file, `field "rms_norm_eps" must be in (0, ${MAX_RMS_NORM_EPS}], got ${eps}`, 'rms_norm_eps');
  }
  return eps;
}

/** Parses generation_config.json (every field optional). */
export function parseGenerationConfig(json: unknown, file = 'generation_config.json'): GenerationConfig {
  const f = new Fields(file, asObject(json, file));
  const out: GenerationConfig = { eosTokenIds: f.tokenIds('eos_token_id') };
  const set = <K extends keyof GenerationConfig>(k: K, v: GenerationConfig[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('bosTokenId', f.tokenId('bos_token_id'));
  set('padTokenId', f.tokenId('pad_token_id'));
  set('doSample', f.has('do_sample') ? f.bool('do_sample', false) : undefined);
  set('temperature', f.optionalNumber('temperature', (v) => v >= 0, 'a number ≥ 0'));
  set('topK', f.optionalNumber('top_k', (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer'));
  set('topP', f.optionalNumber('top_p', (v) => v > 0 && v <= 1, 'a number in (0, 1]'));
  set('minP', f.optionalNumber('min_p', (v) => v >= 0 && v <= 1, 'a number in [0, 1]'));
  set('repetitionPenalty', f.optionalNumber('repetition_penalty', (v) => v > 0, 'a positive number'));
  set('maxNewTokens', f.optionalNumber('max_new_tokens', (v) => Number.isInteger(v) && v > 0, 'a positive integer'));
  return out;
}

export interface ParseModelConfigOptions {
  /** Name used in messages. @default 'config.json' */
  file?: string;
  /** generation_config.json, whose eos ids are united with config.json's. */
  generation?: GenerationConfig;
}

/** Validates a parsed config.json against what the native engine implements. */
export function parseModelConfig(json: unknown, options: ParseModelConfigOptions = {}): ModelConfig {
  const file = options.file ?? 'config.json';
  const f = new Fields(file, asObject(json, file));
  const architecture = parseArchitecture(f);

  const hiddenSize = f.positiveInt('hidden_size');
  const numHeads = f.positiveInt('num_attention_heads');
  const numKvHeads = f.positiveInt('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new ModelConfigError(
      file,
      `field "num_attention_heads" (${numHeads}) must be a multiple of "num_key_value_heads" (${numKvHeads})`,
      'num_key_value_heads',
    );
  }
  if (!f.has('head_dim') && hiddenSize % numHeads !== 0) {
    throw new ModelConfigError(
      file,
      `field "head_dim" is absent and "hidden_size" (${hiddenSize}) is not a multiple of "num_attention_heads" (${numHeads})`,
      'head_dim',
    );
  }
  const headDim = f.positiveInt('head_dim', hiddenSize / numHeads);
  if (headDim % 2 !== 0) throw new ModelConfigError(file, `field "head_dim" must be even for rotary embeddings, got ${headDim}`, 'head_dim');

  const act = f.string('hidden_act') ?? 'silu';
  if (act !== 'silu' && act !== 'swish') {
    throw new ModelConfigError(file, `field "hidden_act" is ${JSON.stringify(act)}; thinktree's MLP implements silu only`, 'hidden_act');
  }
  const partial = f.optionalNumber('partial_rotary_factor', (v) => v > 0 && v <= 1, 'a number in (0, 1]');
  if (partial !== undefined && partial !== 1) {
    throw new ModelConfigError(file, `field "partial_rotary_factor" is ${partial}; thinktree rotates the full head only`, 'partial_rotary_factor');
  }

  // Reward models are their base decoder underneath: same biases, same sliding-window rules.
  const attentionBias = backboneOf(architecture) === 'qwen2';
  if (backboneOf(architecture) === 'llama') {
    // LlamaAttention puts `attention_bias` on o_proj as well, which the native layer does not carry.
    if (f.bool('attention_bias', false)) {
      throw new ModelConfigError(
        file,
        'field "attention_bias" is true: Llama with attention biases also biases o_proj, which thinktree does not support',
        'attention_bias',
      );
    }
    if (f.bool('mlp_bias', false)) {
      throw new ModelConfigError(file, 'field "mlp_bias" is true: thinktree does not support MLP biases', 'mlp_bias');
    }
  }

  const numLayers = f.positiveInt('num_hidden_layers');
  const rope = parseRope(f);
  const generation = options.generation;
  const eos = [...new Set([...f.tokenIds('eos_token_id'), ...(generation?.eosTokenIds ?? [])])];
  const vocabSize = f.positiveInt('vocab_size');
  const outside = eos.find((id) => id >= vocabSize);
  if (outside !== undefined) {
    throw new ModelConfigError(file, `eos token id ${outside} is outside the vocabulary (vocab_size ${vocabSize})`, 'eos_token_id');
  }
  return {
    architecture,
    hasLmHead: !isRewardArchitecture(architecture),
    hiddenSize,
    intermediateSize: f.positiveInt('intermediate_size'),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    vocabSize,
    rmsNormEps: parseRmsNormEps(f),
    ropeTheta: rope.theta,
    ropeScaling: rope.scaling,
    maxPositionEmbeddings: f.has('max_position_embeddings') ? f.positiveInt('max_position_embeddings') : undefined,
    tieWordEmbeddings: f.bool('tie_word_embeddings', false),
    attentionBias,
    slidingWindow: parseSlidingWindow(f, architecture, numLayers),
    eosTokenIds: eos,
    bosTokenId: f.tokenId('bos_token_id') ?? generation?.bosTokenId,
  };
}

async function readJson(file: string): Promise<unknown> {
  const text = await readTextFile(file, 'read the file');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ModelConfigError(file, `is not valid JSON (${(err as Error).message})`);
  }
}

/** Reads `dir/config.json` and, when present, `dir/generation_config.json`. */
export async function readModelConfig(dir: string): Promise<{ config: ModelConfig; generation: GenerationConfig }> {
  const genFile = path.join(dir, 'generation_config.json');
  let generation: GenerationConfig = { eosTokenIds: [] };
  try {
    generation = parseGenerationConfig(await readJson(genFile), genFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const file = path.join(dir, 'config.json');
  const config = parseModelConfig(await readJson(file), { file, generation });
  return { config, generation: { ...generation, eosTokenIds: config.eosTokenIds } };
}
