/**
 * The types of a prepared load, shared by the two readers (prepare.ts for Hugging Face directories,
 * gguf/prepare.ts for GGUF files).
 */
import type { NativeHeadSpec, NativeModelSpec } from '../native/addon-types.js';
import type { CheckpointIndex } from './checkpoint.js';
import type { GenerationConfig, ModelConfig } from './config.js';
import type { RuntimeOptions } from './spec.js';
import type { TextTokenizer } from './tokenizer.js';

/** What a head chooser sees: the validated config, the tokenizer, and every tensor header of the checkpoint. */
export interface HeadContext {
  dir: string;
  config: ModelConfig;
  tokenizer: TextTokenizer;
  checkpoint: CheckpointIndex;
}

export interface PrepareOptions extends RuntimeOptions {
  /**
   * Picks the model's output head once the checkpoint's tensors are known (reward models); its tensors
   * are then validated with the backbone's. Omitted: the vocabulary logits.
   */
  selectHead?: (ctx: HeadContext) => NativeHeadSpec;
  /** Aborting rejects with an Error named 'AbortError' before the next file is read. */
  signal?: AbortSignal;
  /** Fraction of safetensors files whose headers have been read and validated. */
  onProgress?: (fraction: number) => void;
}

export interface PreparedModel {
  config: ModelConfig;
  tokenizer: TextTokenizer;
  spec: NativeModelSpec;
  /** generation_config.json, its eos ids united with config.json's. */
  generation: GenerationConfig;
}
