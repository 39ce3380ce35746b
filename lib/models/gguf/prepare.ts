/**
 * prepareGguf: what the loader does in TypeScript for a .gguf file before native code maps the
 * weights (the GGUF twin of prepareModel): read and validate the header, map the metadata onto a
 * ModelConfig, rebuild the tokenizer, locate the tensors and build the native spec.
 */
import type { NativeModelSpec } from '../../native/addon-types.js';
import { GgufError, ModelConfigError, throwIfAborted } from '../errors.js';
import type { PrepareOptions, PreparedModel } from '../prepared.js';
import { buildNativeSpec, checkRuntime } from '../spec.js';
import { ggufCheckpoint, ggufCheckpointIndex } from './checkpoint.js';
import { THINKTREE_ARCHITECTURE_KEY, ggufModelConfig } from './model-config.js';
import { ROPE_FREQS_TENSOR } from './names.js';
import { readGgufHeader, readGgufTensorBytes, type GgufFile } from './reader.js';
import { ggufTokenizer } from './tokenizer.js';

/** Rows of token_embd.weight: the vocabulary size, as llama.cpp takes it. */
function vocabRows(gguf: GgufFile): number {
  const t = gguf.tensors.get('token_embd.weight');
  if (t === undefined) throw new GgufError(gguf.file, 'missing tensor "token_embd.weight" (the token embedding)', 'token_embd.weight');
  if (t.shape.length !== 2) throw new GgufError(gguf.file, `tensor "token_embd.weight" must be a matrix, got dims [${t.ne.join(', ')}]`, 'token_embd.weight');
  return t.shape[0]!;
}

/** llama.cpp's Llama 3.1 RoPE scaling: `rope_freqs.weight`, [head_dim / 2] F32 divisors. */
async function ropeFactors(gguf: GgufFile): Promise<Float32Array | undefined> {
  const t = gguf.tensors.get(ROPE_FREQS_TENSOR);
  if (t === undefined) return undefined;
  if (t.type.name !== 'F32' || t.ne.length !== 1) {
    throw new GgufError(gguf.file, `tensor ${JSON.stringify(ROPE_FREQS_TENSOR)} must be a vector of F32, got ${t.type.name} dims [${t.ne.join(', ')}]`, ROPE_FREQS_TENSOR);
  }
  const bytes = await readGgufTensorBytes(gguf, ROPE_FREQS_TENSOR);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
}

export async function prepareGguf(file: string, options: PrepareOptions): Promise<PreparedModel> {
  const { signal, onProgress, selectHead, ...runtime } = options;
  throwIfAborted(signal);
  checkRuntime(runtime);
  const gguf = await readGgufHeader(file);
  onProgress?.(0.5);
  throwIfAborted(signal);
  const factors = await ropeFactors(gguf);
  const { config, ropeInterleaved } = ggufModelConfig(gguf, vocabRows(gguf), factors);
  const tokenizer = ggufTokenizer(gguf, config.eosTokenIds, config.vocabSize);
  if (!config.hasLmHead && selectHead === undefined) {
    throw new ModelConfigError(file, `architecture ${config.architecture} is a process reward model with no language-model head; load it with loadPrm()`, THINKTREE_ARCHITECTURE_KEY);
  }
  const head = selectHead?.({ dir: file, config, tokenizer, checkpoint: ggufCheckpointIndex(gguf) });
  const checkpoint = ggufCheckpoint(gguf, config, head);
  throwIfAborted(signal);
  const spec: NativeModelSpec = buildNativeSpec(config, checkpoint, tokenizer, runtime, head);
  if (ropeInterleaved) spec.ropeInterleaved = true;
  onProgress?.(1);
  return { config, tokenizer, spec, generation: { eosTokenIds: [...tokenizer.eosTokenIds] } };
}
