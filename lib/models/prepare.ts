/**
 * prepareModel: everything the loader does in TypeScript before native code maps the weights —
 * read and validate config.json, the tokenizer and every safetensors header, then build the spec.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { checkpointFor, openCheckpoint } from './checkpoint.js';
import { ORM_ARCHITECTURES, readModelConfig } from './config.js';
import { ModelConfigError, throwIfAborted } from './errors.js';
import { buildNativeSpec, checkRuntime } from './spec.js';
import { TextTokenizer } from './tokenizer.js';
import { prepareGguf } from './gguf/prepare.js';
import type { PrepareOptions, PreparedModel } from './prepared.js';

export type { HeadContext, PrepareOptions, PreparedModel } from './prepared.js';

/** A path to a file (a .gguf) rather than a Hugging Face directory. */
async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false; // a missing path is reported by the directory reader, which names what it looked for
  }
}

/** Reads a Hugging Face directory (config.json, tokenizer.json, safetensors) or a GGUF file (prepareGguf). */
export async function prepareModel(dir: string, options: PrepareOptions): Promise<PreparedModel> {
  if (await isFile(dir)) return prepareGguf(dir, options);
  const { signal, onProgress, selectHead, ...runtime } = options;
  throwIfAborted(signal);
  checkRuntime(runtime);
  const { config, generation } = await readModelConfig(dir);
  if (!config.hasLmHead && selectHead === undefined) {
    throw new ModelConfigError(
      path.join(dir, 'config.json'),
      (ORM_ARCHITECTURES as readonly string[]).includes(config.architecture)
        ? `architecture ${config.architecture} is an outcome reward model with no language-model head; load it with loadRewardModel()`
        : `architecture ${config.architecture} is a process reward model with no language-model head; load it with loadPrm()`,
      'architectures',
    );
  }
  throwIfAborted(signal);
  const tokenizer = await TextTokenizer.fromDirectory(dir, { eosTokenIds: config.eosTokenIds, embeddingRows: config.vocabSize });
  throwIfAborted(signal);
  const index = await openCheckpoint(dir, { signal, onProgress });
  const head = selectHead?.({ dir, config, tokenizer, checkpoint: index });
  const checkpoint = checkpointFor(index, config, head);
  throwIfAborted(signal);
  const spec = buildNativeSpec(config, checkpoint, tokenizer, runtime, head);
  return { config, tokenizer, spec, generation: { ...generation, eosTokenIds: [...tokenizer.eosTokenIds] } };
}
