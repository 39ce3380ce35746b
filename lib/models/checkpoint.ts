/**
 * Finds a checkpoint's safetensors files, reads their headers, and checks that every tensor the
 * architecture needs is there with the shape config.json implies and a dtype the kernels read. The
 * result is the tensor table native code maps: absolute file offsets, byte lengths, dtypes.
 */
import { readdir } from 'node:fs/promises';
import { readTextFile } from './files.js';
import path from 'node:path';
import type { DTypeName, NativeHeadSpec, NativeTensorSpec } from '../native/addon-types.js';
import type { ModelConfig } from './config.js';
import { CheckpointError, SafetensorsError, fileReadError, throwIfAborted } from './errors.js';
import { readSafetensorsHeader, type SafetensorsHeader, type TensorEntry } from './safetensors.js';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';
const WEIGHT_DTYPES: readonly string[] = ['F32', 'F16', 'BF16'] satisfies DTypeName[];

export interface CheckpointOptions {
  /** What the model computes on the final hidden state; decides the output tensors. @default { kind: 'lm' } */
  head?: NativeHeadSpec;
  signal?: AbortSignal;
  /** Fraction of safetensors files whose headers have been read and validated. */
  onProgress?: (fraction: number) => void;
}

/** Every tensor of a checkpoint, located: which file, and where in it. */
export interface CheckpointIndex {
  /** Absolute paths of the safetensors files. */
  files: string[];
  headers: SafetensorsHeader[];
  where: Map<string, { file: number; entry: TensorEntry }>;
  /** The file to name when a tensor is missing: model.safetensors or the index. */
  source: string;
}

export interface ExpectedTensor {
  name: string;
  shape: number[];
  /** Set for the tensors of a reward head (named in messages). */
  head?: NativeHeadSpec['kind'];
}

const LM_HEAD: NativeHeadSpec = { kind: 'lm' };

/** The output tensors of `head` (reward heads read their own tensors; lm heads read lm_head or the embedding). */
function headTensors(c: ModelConfig, head: NativeHeadSpec): ExpectedTensor[] {
  const h = c.hiddenSize;
  switch (head.kind) {
    case 'lm':
    case 'lm-rows':
      // Tied: the output projection reuses the embedding; a stray lm_head.weight is ignored.
      return c.tieWordEmbeddings ? [] : [{ name: 'lm_head.weight', shape: [c.vocabSize, h] }];
    case 'mlp2':
      return [
        { name: `${head.prefix}.0.weight`, shape: [h, h], head: head.kind },
        { name: `${head.prefix}.0.bias`, shape: [h], head: head.kind },
        { name: `${head.prefix}.2.weight`, shape: [head.outputs, h], head: head.kind },
        { name: `${head.prefix}.2.bias`, shape: [head.outputs], head: head.kind },
      ];
    case 'linear': {
      const out: ExpectedTensor[] = [{ name: `${head.prefix}.weight`, shape: [head.outputs, h], head: head.kind }];
      if (head.bias) out.push({ name: `${head.prefix}.bias`, shape: [head.outputs], head: head.kind });
      return out;
    }
  }
}

/** Hugging Face tensor names and shapes of a Llama / Qwen2 / Mistral decoder and the tensors of its head. */
export function expectedTensors(c: ModelConfig, head: NativeHeadSpec = LM_HEAD): ExpectedTensor[] {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const out: ExpectedTensor[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, c.hiddenSize] }];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    out.push(
      { name: `${p}.input_layernorm.weight`, shape: [c.hiddenSize] },
      { name: `${p}.self_attn.q_proj.weight`, shape: [q, c.hiddenSize] },
      { name: `${p}.self_attn.k_proj.weight`, shape: [kv, c.hiddenSize] },
      { name: `${p}.self_attn.v_proj.weight`, shape: [kv, c.hiddenSize] },
    );
    if (c.attentionBias) {
      out.push(
        { name: `${p}.self_attn.q_proj.bias`, shape: [q] },
        { name: `${p}.self_attn.k_proj.bias`, shape: [kv] },
        { name: `${p}.self_attn.v_proj.bias`, shape: [kv] },
      );
    }
    out.push(
      { name: `${p}.self_attn.o_proj.weight`, shape: [c.hiddenSize, q] },
      { name: `${p}.post_attention_layernorm.weight`, shape: [c.hiddenSize] },
      { name: `${p}.mlp.gate_proj.weight`, shape: [c.intermediateSize, c.hiddenSize] },
      { name: `${p}.mlp.up_proj.weight`, shape: [c.intermediateSize, c.hiddenSize] },
      { name: `${p}.mlp.down_proj.weight`, shape: [c.hiddenSize, c.intermediateSize] },
    );
  }
  out.push({ name: 'model.norm.weight', shape: [c.hiddenSize] });
  out.push(...headTensors(c, head));
  return out;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    throw fileReadError(dir, 'list the model directory', err);
  }
}

/** weight_map of model.safetensors.index.json: tensor name → shard file name (same directory). */
async function readIndex(indexPath: string): Promise<Map<string, string>> {
  const text = await readTextFile(indexPath, 'read the sharded checkpoint index');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(indexPath, `is not valid JSON (${(err as Error).message})`);
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new SafetensorsError(indexPath, `must hold an object with a "weight_map" object (tensor name → shard file)`);
  }
  const out = new Map<string, string>();
  for (const [name, file] of Object.entries(map)) {
    if (typeof file !== 'string' || file === '' || file !== path.basename(file) || file === '..' || file === '.') {
      throw new SafetensorsError(indexPath, `weight_map maps tensor ${JSON.stringify(name)} to ${JSON.stringify(file)}; expected a file name in the same directory`, name);
    }
    out.set(name, file);
  }
  return out;
}

/**
 * Every tensor stored in the shards must be in weight_map, pointing at the shard that holds it, and
 * no tensor may live in two shards: otherwise which bytes are "the" weight is ambiguous.
 */
function checkShards(indexPath: string, weightMap: Map<string, string>, files: string[], headers: SafetensorsHeader[], where: CheckpointIndex['where']): void {
  for (let f = 0; f < headers.length; f++) {
    for (const [name, entry] of headers[f].tensors) {
      const seen = where.get(name);
      if (seen !== undefined) {
        throw new SafetensorsError(indexPath, `tensor ${JSON.stringify(name)} appears twice, in ${files[seen.file]} and in ${files[f]}`, name);
      }
      where.set(name, { file: f, entry });
    }
  }
  for (const [name, shard] of weightMap) {
    const at = where.get(name);
    if (at === undefined) {
      throw new SafetensorsError(indexPath, `weight_map puts tensor ${JSON.stringify(name)} in ${shard}, but that shard has no such tensor`, name);
    }
    if (path.basename(files[at.file]) !== shard) {
      throw new SafetensorsError(indexPath, `weight_map puts tensor ${JSON.stringify(name)} in ${shard}, but it is stored in ${files[at.file]}`, name);
    }
  }
  for (const [name, at] of where) {
    if (!weightMap.has(name)) {
      throw new SafetensorsError(indexPath, `tensor ${JSON.stringify(name)} stored in ${files[at.file]} is missing from weight_map`, name);
    }
  }
}

/** Reads the headers of `dir/model.safetensors`, or of every shard listed by the index. */
export async function openCheckpoint(dir: string, options: CheckpointOptions = {}): Promise<CheckpointIndex> {
  const { signal, onProgress } = options;
  throwIfAborted(signal);
  const root = path.resolve(dir);
  const names = await listDir(root);
  let files: string[];
  let weightMap: Map<string, string> | undefined;
  let source: string;
  if (names.includes(SINGLE_FILE)) {
    source = path.join(root, SINGLE_FILE);
    files = [source];
  } else if (names.includes(INDEX_FILE)) {
    source = path.join(root, INDEX_FILE);
    weightMap = await readIndex(source);
    files = [...new Set(weightMap.values())].map((f) => path.join(root, f));
  } else {
    const hint = names.some((n) => n.endsWith('.bin') || n.endsWith('.pt')) ? ' (PyTorch .bin checkpoints must be converted to safetensors first)' : '';
    throw new CheckpointError(root, `no ${SINGLE_FILE} or ${INDEX_FILE} in the model directory${hint}`);
  }
  const headers: SafetensorsHeader[] = [];
  for (const file of files) {
    throwIfAborted(signal);
    headers.push(await readSafetensorsHeader(file));
    onProgress?.(headers.length / files.length);
  }
  const where: CheckpointIndex['where'] = new Map();
  if (weightMap === undefined) {
    for (const [name, entry] of headers[0].tensors) where.set(name, { file: 0, entry });
  } else {
    checkShards(source, weightMap, files, headers, where);
  }
  return { files, headers, where, source };
}

const showShape = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * Tensors under a decoder layer that transformers checkpoints carry but no forward pass reads: older
 * Llama exports saved RoPE's inverse frequencies, which thinktree computes from config.json.
 */
export const UNUSED_LAYER_TENSORS: readonly string[] = ['self_attn.rotary_emb.inv_freq'];

const LAYER_TENSOR = /^model\.layers\.(\d+)\.(.+)$/;

/**
 * Every `model.layers.N.*` tensor of the checkpoint must be one the decoder reads (or a known unused
 * one): a layer beyond config.json's num_hidden_layers means the config drops layers of the model, and
 * an unknown tensor inside a layer (an o_proj bias, a q_norm) means the layer computes something the
 * native decoder would silently leave out.
 */
function checkLayerTensors(ckpt: CheckpointIndex, config: ModelConfig, expected: ReadonlySet<string>): void {
  let lastLayer = -1;
  let lastName = '';
  for (const name of ckpt.where.keys()) {
    const m = LAYER_TENSOR.exec(name);
    if (m === null) continue;
    const layer = Number(m[1]);
    if (layer > lastLayer) [lastLayer, lastName] = [layer, name];
  }
  if (lastLayer >= config.numLayers) {
    throw new CheckpointError(
      ckpt.source,
      `has tensors of ${lastLayer + 1} decoder layers (${JSON.stringify(lastName)}), but config.json field "num_hidden_layers" is ${config.numLayers}: expected ${config.numLayers} layers, got ${lastLayer + 1}`,
      lastName,
    );
  }
  for (const [name, at] of ckpt.where) {
    const m = LAYER_TENSOR.exec(name);
    if (m === null || expected.has(name) || UNUSED_LAYER_TENSORS.includes(m[2]!)) continue;
    throw new CheckpointError(
      ckpt.files[at.file]!,
      `has tensor ${JSON.stringify(name)}, which ${config.architecture} with this config.json does not read (field "architectures" ${JSON.stringify(config.architecture)}${config.attentionBias ? '' : ', no attention biases'}); expected only the decoder's own tensors in layer ${m[1]}`,
      name,
    );
  }
}

/** Checks the architecture's tensors (and its head's) against config.json and locates them for native code. */
export function resolveTensors(ckpt: CheckpointIndex, config: ModelConfig, head: NativeHeadSpec = LM_HEAD): NativeTensorSpec[] {
  const out: NativeTensorSpec[] = [];
  const expected = expectedTensors(config, head);
  for (const want of expected) {
    const at = ckpt.where.get(want.name);
    if (at === undefined) {
      const why =
        want.name === 'lm_head.weight'
          ? '; config.json has tie_word_embeddings false, so the model needs its own output matrix'
          : ` (expected shape ${showShape(want.shape)} for ${want.head ? `the ${want.head} reward head` : config.architecture})`;
      throw new CheckpointError(ckpt.source, `missing tensor ${JSON.stringify(want.name)}${why}`, want.name);
    }
    const file = ckpt.files[at.file];
    const { entry } = at;
    if (entry.shape.length !== want.shape.length || entry.shape.some((d, i) => d !== want.shape[i])) {
      throw new CheckpointError(
        file,
        `tensor ${JSON.stringify(want.name)} has shape ${showShape(entry.shape)}, expected ${showShape(want.shape)} from config.json`,
        want.name,
      );
    }
    if (!WEIGHT_DTYPES.includes(entry.dtype)) {
      throw new CheckpointError(
        file,
        `tensor ${JSON.stringify(want.name)} has dtype ${entry.dtype}; thinktree loads F32, F16 and BF16 weights`,
        want.name,
      );
    }
    const [begin, end] = entry.dataOffsets;
    out.push({
      name: want.name,
      file: at.file,
      dtype: entry.dtype as DTypeName,
      shape: [...entry.shape],
      offset: ckpt.headers[at.file].dataStart + begin,
      byteLength: end - begin,
    });
  }
  // After the missing / shape checks, so that a misnamed tensor is reported as the one missing.
  checkLayerTensors(ckpt, config, new Set(expected.map((t) => t.name)));
  return out;
}

export interface Checkpoint {
  files: string[];
  tensors: NativeTensorSpec[];
  /** Bytes of the tensors the model uses. */
  weightBytes: number;
}

/** The located tensor table of an opened checkpoint for `config` and `head`. */
export function checkpointFor(ckpt: CheckpointIndex, config: ModelConfig, head?: NativeHeadSpec): Checkpoint {
  const tensors = resolveTensors(ckpt, config, head);
  return { files: ckpt.files, tensors, weightBytes: tensors.reduce((s, t) => s + t.byteLength, 0) };
}

/** openCheckpoint + resolveTensors. */
export async function readCheckpoint(dir: string, config: ModelConfig, options: CheckpointOptions = {}): Promise<Checkpoint> {
  const ckpt = await openCheckpoint(dir, options);
  return checkpointFor(ckpt, config, options.head);
}
