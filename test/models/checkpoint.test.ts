import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../lib/models/checkpoint.js';
import { parseModelConfig } from '../../lib/models/config.js';
import { CheckpointError, SafetensorsError } from '../../lib/models/errors.js';
import { writeSafetensors } from '../../lib/models/safetensors.js';
import { tempDir, tinyConfig, tinyTensors, writeModelDir } from '../helpers/hf-files.js';

let root: string;
let cleanup: () => Promise<void>;
let n = 0;
beforeAll(async () => ({ dir: root, cleanup } = await tempDir()));
afterAll(() => cleanup());
const fresh = () => path.join(root, `m${n++}`);

async function bytesAt(file: string, offset: number, length: number): Promise<Uint8Array> {
  const fh = await open(file, 'r');
  try {
    const buf = new Uint8Array(length);
    await fh.read(buf, 0, length, offset);
    return buf;
  } finally {
    await fh.close();
  }
}

const bytesOf = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

describe('single-file checkpoints', () => {
  it('locates every tensor at the absolute offset that holds its bytes', async () => {
    const dir = fresh();
    const cfg = tinyConfig('Qwen2ForCausalLM');
    const tensors = tinyTensors(cfg, 'BF16');
    await writeModelDir(dir, { config: cfg, tensors });
    const ckpt = await readCheckpoint(dir, parseModelConfig(cfg));
    expect(ckpt.files).toEqual([path.join(dir, 'model.safetensors')]);
    expect(new Set(ckpt.tensors.map((t) => t.name))).toEqual(new Set(tensors.keys()));
    for (const t of ckpt.tensors) {
      const want = tensors.get(t.name)!;
      expect(t.dtype).toBe('BF16');
      expect(t.shape).toEqual(want.shape);
      expect(await bytesAt(ckpt.files[t.file], t.offset, t.byteLength)).toEqual(bytesOf(want.data));
    }
    expect(ckpt.weightBytes).toBe([...tensors.values()].reduce((s, t) => s + t.data.byteLength, 0));
  });

  it('names the tensor, the expected and actual shapes, and the file when a shape disagrees with config.json', async () => {
    const dir = fresh();
    const cfg = tinyConfig();
    const tensors = tinyTensors(cfg);
    tensors.set('model.layers.1.mlp.up_proj.weight', { dtype: 'F32', shape: [10, 8], data: new Float32Array(80) });
    await writeModelDir(dir, { config: cfg, tensors });
    const err = await readCheckpoint(dir, parseModelConfig(cfg)).catch((e: unknown) => e as CheckpointError);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).message).toBe(
      `${path.join(dir, 'model.safetensors')}: tensor "model.layers.1.mlp.up_proj.weight" has shape [10, 8], expected [12, 8] from config.json`,
    );
  });

  it('names a missing tensor and its expected shape', async () => {
    const dir = fresh();
    const cfg = tinyConfig();
    const tensors = tinyTensors(cfg);
    tensors.delete('model.layers.0.self_attn.k_proj.weight');
    await writeModelDir(dir, { config: cfg, tensors });
    await expect(readCheckpoint(dir, parseModelConfig(cfg))).rejects.toThrow(
      'missing tensor "model.layers.0.self_attn.k_proj.weight" (expected shape [4, 8] for LlamaForCausalLM)',
    );
  });

  it('rejects a weight dtype the kernels do not read', async () => {
    const dir = fresh();
    const cfg = tinyConfig();
    const tensors = tinyTensors(cfg);
    tensors.set('model.norm.weight', { dtype: 'I8', shape: [8], data: new Int8Array(8) });
    await writeModelDir(dir, { config: cfg, tensors });
    await expect(readCheckpoint(dir, parseModelConfig(cfg))).rejects.toThrow(
      'tensor "model.norm.weight" has dtype I8; thinktree loads F32, F16 and BF16 weights',
    );
  });

  it('ignores tensors the architecture does not use', async () => {
    const dir = fresh();
    const cfg = tinyConfig();
    const tensors = tinyTensors(cfg);
    tensors.set('score.weight', { dtype: 'F32', shape: [2, 8], data: new Float32Array(16) });
    await writeModelDir(dir, { config: cfg, tensors });
    const ckpt = await readCheckpoint(dir, parseModelConfig(cfg));
    expect(ckpt.tensors.some((t) => t.name === 'score.weight')).toBe(false);
  });
});

describe('tied and untied output matrices', () => {
  it('loads a tied model without lm_head.weight and leaves it out of the table', async () => {
    const dir = fresh();
    const cfg = tinyConfig('Qwen2ForCausalLM', { tie_word_embeddings: true });
    await writeModelDir(dir, { config: cfg });
    const ckpt = await readCheckpoint(dir, parseModelConfig(cfg));
    expect(ckpt.tensors.some((t) => t.name === 'lm_head.weight')).toBe(false);
  });

  it('ignores a stray lm_head.weight in a tied model', async () => {
    const dir = fresh();
    const cfg = tinyConfig('LlamaForCausalLM', { tie_word_embeddings: true });
    const tensors = tinyTensors({ ...cfg, tie_word_embeddings: false });
    await writeModelDir(dir, { config: cfg, tensors });
    const ckpt = await readCheckpoint(dir, parseModelConfig(cfg));
    expect(ckpt.tensors.map((t) => t.name)).not.toContain('lm_head.weight');
  });

  it('requires lm_head.weight when tie_word_embeddings is false', async () => {
    const dir = fresh();
    const cfg = tinyConfig('LlamaForCausalLM', { tie_word_embeddings: false });
    const tensors = tinyTensors(cfg);
    tensors.delete('lm_head.weight');
    await writeModelDir(dir, { config: cfg, tensors });
    await expect(readCheckpoint(dir, parseModelConfig(cfg))).rejects.toThrow(
      'missing tensor "lm_head.weight"; config.json has tie_word_embeddings false',
    );
  });
});

describe('sharded checkpoints', () => {
  it('locates tensors across shards', async () => {
    const dir = fresh();
    const cfg = tinyConfig();
    const tensors = tinyTensors(cfg);
    await writeModelDir(dir, { config: cfg, tensors, shards: 3 });
    const ckpt = await readCheckpoint(dir, parseModelConfig(cfg));
    expect(ckpt.files.map((f) => path.basename(f))).toEqual([
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
    ]);
    for (const t of ckpt.tensors) {
      expect(await bytesAt(ckpt.files[t.file], t.offset, t.byteLength)).toEqual(bytesOf(tensors.get(t.name)!.data));
    }
  });

  it('rejects an index that maps a tensor to a shard that lacks it', async () => {
    const dir = fresh();
    const cfg = tinyConfig();
    await writeModelDir(dir, {
      config: cfg,
      shards: 2,
      editWeightMap: (m) => (m['model.extra.weight'] = 'model-00002-of-00002.safetensors'),
    });
    const err = await readCheckpoint(dir, parseModelConfig(cfg)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as Error).message).toBe(
      `${path.join(dir, 'model.safetensors.index.json')}: weight_map puts tensor "model.extra.weight" in ` +
        'model-00002-of-00002.safetensors, but that shard has no such tensor',
    );
  });

  it('rejects a shard tensor that is missing from the weight map', async () => {
    const dir = fresh();
    const cfg = tinyConfig();
    await writeModelDir(dir, { config: cfg, shards: 2, editWeightMap: (m) => delete m['model.norm.weight'] });
    await expect(readCheckpoint(dir, parseModelConfig(cfg))).rejects.toThrow(/tensor "model.norm.weight" stored in .*model-0000\d-of-00002.safetensors is missing from weight_map/);
  });

  it('rejects a tensor stored in two shards', async () => {
    const dir = fresh();
    const cfg = tinyConfig();
    const tensors = tinyTensors(cfg);
    await writeModelDir(dir, { config: cfg, tensors, shards: 2 });
    // Rewrite shard 2 with a copy of a tensor that shard 1 holds.
    const { readSafetensorsHeader } = await import('../../lib/models/safetensors.js');
    const shard1 = await readSafetensorsHeader(path.join(dir, 'model-00001-of-00002.safetensors'));
    const dup = [...shard1.tensors.keys()][0];
    const shard2Names = [...tensors.keys()].filter((_, i) => i % 2 === 1);
    await writeSafetensors(
      path.join(dir, 'model-00002-of-00002.safetensors'),
      new Map([...shard2Names, dup].map((k) => [k, tensors.get(k)!])),
    );
    await expect(readCheckpoint(dir, parseModelConfig(cfg))).rejects.toThrow(`tensor ${JSON.stringify(dup)} appears twice`);
  });

  it('names a shard file that does not exist, with the OS error', async () => {
    const dir = fresh();
    const cfg = tinyConfig();
    await writeModelDir(dir, { config: cfg, shards: 2 });
    const shard = path.join(dir, 'model-00002-of-00002.safetensors');
    await rm(shard);
    await expect(readCheckpoint(dir, parseModelConfig(cfg))).rejects.toThrow(`${shard}: cannot open the safetensors file (ENOENT`);
  });
});

describe('model directories', () => {
  it('reports a directory without safetensors weights', async () => {
    const dir = fresh();
    await writeModelDir(dir);
    await rm(path.join(dir, 'model.safetensors'));
    await expect(readCheckpoint(dir, parseModelConfig(tinyConfig()))).rejects.toThrow(
      'no model.safetensors or model.safetensors.index.json in the model directory',
    );
  });

  it('reports a directory that does not exist, with the OS error', async () => {
    const dir = path.join(root, 'missing-dir');
    await expect(readCheckpoint(dir, parseModelConfig(tinyConfig()))).rejects.toThrow(`${dir}: cannot list the model directory (ENOENT`);
  });
});
