/**
 * prepareModel: everything the loader does in TypeScript before native code maps the weights —
 * read and validate config.json, the tokenizer and every safetensors header, then build the spec.
 */
import type { NativeModelSpec } from '../native/addon-types.js';
import { readCheckpoint } from './checkpoint.js';
import { readModelConfig, type GenerationConfig, type ModelConfig } from './config.js';
import { throwIfAborted } from './errors.js';
import { buildNativeSpec, checkRuntime, type RuntimeOptions } from './spec.js';
import { TextTokenizer } from './tokenizer.js';

export interface PrepareOptions extends RuntimeOptions {
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

export async function prepareModel(dir: string, options: PrepareOptions): Promise<PreparedModel> {
  const { signal, onProgress, ...runtime } = options;
  throwIfAborted(signal);
  checkRuntime(runtime);
  const { config, generation } = await readModelConfig(dir);
  throwIfAborted(signal);
  const tokenizer = await TextTokenizer.fromDirectory(dir, { eosTokenIds: config.eosTokenIds, embeddingRows: config.vocabSize });
  throwIfAborted(signal);
  const checkpoint = await readCheckpoint(dir, config, { signal, onProgress });
  throwIfAborted(signal);
  const spec = buildNativeSpec(config, checkpoint, tokenizer, runtime);
  return { config, tokenizer, spec, generation: { ...generation, eosTokenIds: [...tokenizer.eosTokenIds] } };
}
