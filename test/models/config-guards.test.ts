import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, ModelConfigError, NonFiniteOutputError } from '../../lib/models/errors.js';
import { parseModelConfig } from '../../lib/models/config.js';
import { loadModel, type Model } from '../../lib/models/model.js';
import type { TensorInput } from '../../lib/models/safetensors.js';
import { tempDir, tinyConfig, tinyTensors, writeModelDir } from '../helpers/hf-files.js';

const parse = (overrides: Record<string, unknown>) => () => parseModelConfig(tinyConfig('LlamaForCausalLM', overrides), { file: '/m/config.json' });

describe('absurd config values', () => {
  it('refuses an rms_norm_eps above 1e-2, naming the field and value', () => {
    expect(parse({ rms_norm_eps: 0.5 })).toThrow(ModelConfigError);
    expect(parse({ rms_norm_eps: 0.5 })).toThrow(/\/m\/config\.json: field "rms_norm_eps" must be in \(0, 0\.01\], got 0\.5/);
  });

  it('accepts an rms_norm_eps of exactly 1e-2', () => {
    expect(parse({ rms_norm_eps: 1e-2 })().rmsNormEps).toBe(1e-2);
  });

  it('refuses a zero rms_norm_eps', () => {
    expect(parse({ rms_norm_eps: 0 })).toThrow(/"rms_norm_eps" must be a positive number, got 0/);
  });

  it('refuses a rope_theta of 1 or less, naming the field and value', () => {
    expect(parse({ rope_theta: 1 })).toThrow(/field "rope_theta" must be a finite number > 1, got 1/);
    expect(parse({ rope_theta: 0.5 })).toThrow(ModelConfigError);
  });

  it('refuses a rope_theta ≤ 1 given in rope_parameters', () => {
    const json = tinyConfig('LlamaForCausalLM', { rope_parameters: { rope_type: 'default', rope_theta: 1 } });
    delete json.rope_theta;
    expect(() => parseModelConfig(json)).toThrow(/field "rope_parameters\.rope_theta" must be a finite number > 1, got 1/);
  });

  it('refuses a non-finite rope_theta', () => {
    expect(parse({ rope_theta: 'Infinity' })).toThrow(/"rope_theta" must be a positive number/);
  });

  it('refuses a non-integer size, naming the field and value', () => {
    expect(parse({ intermediate_size: 12.5 })).toThrow(/field "intermediate_size" must be a positive integer, got 12\.5/);
  });

  it('refuses a non-positive size, naming the field and value', () => {
    expect(parse({ num_hidden_layers: 0 })).toThrow(/field "num_hidden_layers" must be a positive integer, got 0/);
    expect(parse({ hidden_size: -8 })).toThrow(/field "hidden_size" must be a positive integer, got -8/);
  });
});

describe('a checkpoint with NaN weights', () => {
  let cleanup: () => Promise<void>;
  let model: Model;

  beforeAll(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const config = tinyConfig();
    const tensors = tinyTensors(config);
    const norm = tensors.get('model.norm.weight') as TensorInput & { data: Float32Array };
    norm.data[0] = Number.NaN;
    await writeModelDir(t.dir, { config, tensors });
    model = await loadModel(t.dir, { device: 'cpu', precision: 'f32', threads: 1, kvCacheBytes: 1 << 20 });
  });

  afterAll(async () => {
    model?.dispose();
    await cleanup?.();
  });

  it('fails logits() with NonFiniteOutputError naming the model', async () => {
    const err = await model.logits([5, 6, 7]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteOutputError);
    expect((err as Error).message).toBe(`${model.info.id}: the model produced NaN logits: its weights may contain NaN or Inf`);
  });

  it('fails generate() instead of returning token 0 with a NaN log-probability', async () => {
    await expect(model.generate([5, 6, 7], { maxTokens: 3 })).rejects.toThrow(NonFiniteOutputError);
  });

  it('returns every page after the failed generation', async () => {
    await model.generate([5, 6], { maxTokens: 2 }).catch(() => undefined);
    expect(model.kvStats().pagesInUse).toBe(0);
  });
});

describe('config.json against the checkpoint', () => {
  const dirs: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of dirs) await c();
  });

  async function modelDir(config: Record<string, unknown>, tensors: Map<string, TensorInput>): Promise<string> {
    const t = await tempDir();
    dirs.push(t.cleanup);
    await writeModelDir(t.dir, { config, tensors });
    return t.dir;
  }
  const load = (dir: string) => loadModel(dir, { device: 'cpu', threads: 1, kvCacheBytes: 1 << 20 });

  it('refuses a config.json with fewer num_hidden_layers than the checkpoint has, naming file, field and counts', async () => {
    const tensors = tinyTensors(tinyConfig('LlamaForCausalLM', { num_hidden_layers: 3 }));
    const dir = await modelDir(tinyConfig('LlamaForCausalLM', { num_hidden_layers: 2 }), tensors);
    const err = await load(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(/model\.safetensors: .*"model\.layers\.2\..*config\.json field "num_hidden_layers" is 2: expected 2 layers, got 3/);
  });

  it('refuses a stray tensor of a layer beyond num_hidden_layers', async () => {
    const config = tinyConfig();
    const tensors = tinyTensors(config);
    tensors.set('model.layers.7.input_layernorm.weight', { dtype: 'F32', shape: [8], data: new Float32Array(8) });
    await expect(load(await modelDir(config, tensors))).rejects.toThrow(/"num_hidden_layers" is 2: expected 2 layers, got 8/);
  });

  it('refuses an unknown tensor inside a layer, naming it', async () => {
    const config = tinyConfig();
    const tensors = tinyTensors(config);
    tensors.set('model.layers.1.self_attn.o_proj.bias', { dtype: 'F32', shape: [8], data: new Float32Array(8) });
    const err = await load(await modelDir(config, tensors)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(/model\.safetensors: has tensor "model\.layers\.1\.self_attn\.o_proj\.bias", which LlamaForCausalLM .* does not read/);
  });

  it('refuses q/k/v biases on a Llama config that has none', async () => {
    const config = tinyConfig();
    const tensors = tinyTensors(config);
    tensors.set('model.layers.0.self_attn.q_proj.bias', { dtype: 'F32', shape: [8], data: new Float32Array(8) });
    await expect(load(await modelDir(config, tensors))).rejects.toThrow(/"model\.layers\.0\.self_attn\.q_proj\.bias"/);
  });

  it('still loads a checkpoint with the unused rotary_emb.inv_freq buffers', async () => {
    const config = tinyConfig();
    const tensors = tinyTensors(config);
    for (const l of [0, 1]) tensors.set(`model.layers.${l}.self_attn.rotary_emb.inv_freq`, { dtype: 'F32', shape: [2], data: new Float32Array(2) });
    const model = await load(await modelDir(config, tensors));
    try {
      expect(model.config.numLayers).toBe(2);
    } finally {
      model.dispose();
    }
  });
});
