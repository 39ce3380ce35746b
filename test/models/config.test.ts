import { describe, expect, it } from 'vitest';
import { parseGenerationConfig, parseModelConfig } from '../../lib/models/config.js';
import { ModelConfigError, UnsupportedArchitectureError } from '../../lib/models/errors.js';
import { tinyConfig } from '../helpers/hf-files.js';

const omit = (o: Record<string, unknown>, key: string) => {
  const copy = { ...o };
  delete copy[key];
  return copy;
};

describe('config.json architectures', () => {
  it('reads a Llama config field by field', () => {
    const c = parseModelConfig(tinyConfig('LlamaForCausalLM'));
    expect(c).toMatchObject({
      architecture: 'LlamaForCausalLM',
      hiddenSize: 8,
      intermediateSize: 12,
      numLayers: 2,
      numHeads: 2,
      numKvHeads: 1,
      headDim: 4,
      vocabSize: 272,
      rmsNormEps: 1e-6,
      ropeTheta: 10000,
      ropeScaling: { type: 'default' },
      tieWordEmbeddings: false,
      attentionBias: false,
      slidingWindow: [0, 0],
      eosTokenIds: [2],
      bosTokenId: 1,
    });
  });

  it('gives Qwen2 q/k/v biases', () => {
    expect(parseModelConfig(tinyConfig('Qwen2ForCausalLM')).attentionBias).toBe(true);
  });

  it('gives Mistral no attention biases and its sliding window on every layer', () => {
    const c = parseModelConfig(tinyConfig('MistralForCausalLM', { sliding_window: 64 }));
    expect(c.attentionBias).toBe(false);
    expect(c.slidingWindow).toEqual([64, 64]);
  });

  it('rejects an unsupported architecture, naming it and the supported ones', () => {
    const err = (() => {
      try {
        parseModelConfig(tinyConfig('LlamaForCausalLM', { architectures: ['GPTNeoXForCausalLM'] }));
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(UnsupportedArchitectureError);
    expect(err?.message).toBe(
      'config.json: architecture "GPTNeoXForCausalLM" is not supported; thinktree runs LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM',
    );
  });
});

describe('config.json defaults', () => {
  it('defaults num_key_value_heads to num_attention_heads', () => {
    expect(parseModelConfig(omit(tinyConfig(), 'num_key_value_heads')).numKvHeads).toBe(2);
  });

  it('defaults head_dim to hidden_size / num_attention_heads and honours an explicit one', () => {
    expect(parseModelConfig(tinyConfig()).headDim).toBe(4);
    expect(parseModelConfig(tinyConfig('LlamaForCausalLM', { head_dim: 6 })).headDim).toBe(6);
  });

  it('defaults rope_theta to 10000', () => {
    expect(parseModelConfig(omit(tinyConfig(), 'rope_theta')).ropeTheta).toBe(10000);
  });

  it('defaults tie_word_embeddings to false', () => {
    expect(parseModelConfig(omit(tinyConfig(), 'tie_word_embeddings')).tieWordEmbeddings).toBe(false);
  });

  it('treats a null num_key_value_heads as absent', () => {
    expect(parseModelConfig(tinyConfig('LlamaForCausalLM', { num_key_value_heads: null })).numKvHeads).toBe(2);
  });
});

describe('config.json rope scaling', () => {
  it('reads linear scaling from the legacy "type" key', () => {
    const c = parseModelConfig(tinyConfig('LlamaForCausalLM', { rope_scaling: { type: 'linear', factor: 2 } }));
    expect(c.ropeScaling).toEqual({ type: 'linear', factor: 2 });
  });

  it('reads llama3 scaling', () => {
    const rope_scaling = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
    expect(parseModelConfig(tinyConfig('LlamaForCausalLM', { rope_scaling })).ropeScaling).toEqual({
      type: 'llama3',
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 8192,
    });
  });

  it('reads rope_theta and the scaling type from the newer rope_parameters object', () => {
    const c = parseModelConfig(omit(tinyConfig('LlamaForCausalLM', { rope_parameters: { rope_type: 'default', rope_theta: 500000 } }), 'rope_theta'));
    expect(c.ropeTheta).toBe(500000);
    expect(c.ropeScaling).toEqual({ type: 'default' });
  });

  it('rejects per-layer-type rope_parameters rather than misreading them', () => {
    const rope_parameters = { full_attention: { rope_type: 'default', rope_theta: 1e6 }, sliding_attention: { rope_type: 'default', rope_theta: 1e4 } };
    expect(() => parseModelConfig(tinyConfig('LlamaForCausalLM', { rope_parameters }))).toThrow(/per-layer-type RoPE settings/);
  });

  it('rejects yarn with a clear unsupported message', () => {
    const cfg = tinyConfig('Qwen2ForCausalLM', { rope_scaling: { type: 'yarn', factor: 4, original_max_position_embeddings: 32768 } });
    expect(() => parseModelConfig(cfg)).toThrow('config.json: rope_scaling type "yarn" is not supported; thinktree supports default, linear, llama3');
  });

  it('rejects dynamic NTK scaling', () => {
    expect(() => parseModelConfig(tinyConfig('LlamaForCausalLM', { rope_scaling: { rope_type: 'dynamic', factor: 2 } }))).toThrow(
      /rope_scaling type "dynamic" is not supported/,
    );
  });

  it('rejects llama3 scaling without its frequency factors', () => {
    expect(() => parseModelConfig(tinyConfig('LlamaForCausalLM', { rope_scaling: { rope_type: 'llama3', factor: 8 } }))).toThrow(
      'config.json: missing required field "rope_scaling.low_freq_factor"',
    );
  });
});

describe('config.json sliding windows', () => {
  it('gives Mistral no window when sliding_window is null', () => {
    expect(parseModelConfig(tinyConfig('MistralForCausalLM', { sliding_window: null })).slidingWindow).toEqual([0, 0]);
  });

  it("gives Mistral transformers' default window of 4096 when sliding_window is absent", () => {
    expect(parseModelConfig(tinyConfig('MistralForCausalLM')).slidingWindow).toEqual([4096, 4096]);
  });

  it('gives Qwen2 full attention when use_sliding_window is false, whatever sliding_window says', () => {
    const c = parseModelConfig(tinyConfig('Qwen2ForCausalLM', { use_sliding_window: false, sliding_window: 32, max_window_layers: 0 }));
    expect(c.slidingWindow).toEqual([0, 0]);
  });

  it('windows the Qwen2 layers whose index is at least max_window_layers', () => {
    const c = parseModelConfig(
      tinyConfig('Qwen2ForCausalLM', { num_hidden_layers: 4, use_sliding_window: true, sliding_window: 32, max_window_layers: 2 }),
    );
    expect(c.slidingWindow).toEqual([0, 0, 32, 32]);
  });

  it('follows an explicit Qwen2 layer_types list over max_window_layers', () => {
    const c = parseModelConfig(
      tinyConfig('Qwen2ForCausalLM', {
        num_hidden_layers: 3,
        use_sliding_window: true,
        sliding_window: 16,
        max_window_layers: 0,
        layer_types: ['sliding_attention', 'full_attention', 'sliding_attention'],
      }),
    );
    expect(c.slidingWindow).toEqual([16, 0, 16]);
  });

  it('gives Llama no sliding window even if the field is present', () => {
    expect(parseModelConfig(tinyConfig('LlamaForCausalLM', { sliding_window: 8 })).slidingWindow).toEqual([0, 0]);
  });
});

describe('config.json eos and bos', () => {
  it('accepts eos_token_id as a list', () => {
    expect(parseModelConfig(tinyConfig('LlamaForCausalLM', { eos_token_id: [2, 5, 7] })).eosTokenIds).toEqual([2, 5, 7]);
  });

  it('unites eos ids from generation_config.json without duplicates', () => {
    const generation = parseGenerationConfig({ eos_token_id: [7, 2], temperature: 0.7, top_p: 0.8 });
    expect(generation).toMatchObject({ temperature: 0.7, topP: 0.8 });
    expect(parseModelConfig(tinyConfig(), { generation }).eosTokenIds).toEqual([2, 7]);
  });

  it('rejects an eos id outside the vocabulary', () => {
    expect(() => parseModelConfig(tinyConfig('LlamaForCausalLM', { eos_token_id: 272 }))).toThrow(
      'config.json: eos token id 272 is outside the vocabulary (vocab_size 272)',
    );
  });
});

describe('config.json validation', () => {
  it('names config.json and the missing field', () => {
    const err = (() => {
      try {
        parseModelConfig(omit(tinyConfig(), 'hidden_size'));
      } catch (e) {
        return e as ModelConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ModelConfigError);
    expect(err?.message).toBe('config.json: missing required field "hidden_size"');
    expect(err?.field).toBe('hidden_size');
  });

  it('rejects a field of the wrong type, showing the value', () => {
    expect(() => parseModelConfig(tinyConfig('LlamaForCausalLM', { num_hidden_layers: '2' }))).toThrow(
      'config.json: field "num_hidden_layers" must be a positive integer, got "2"',
    );
  });

  it('rejects a non-integer size', () => {
    expect(() => parseModelConfig(tinyConfig('LlamaForCausalLM', { intermediate_size: 12.5 }))).toThrow(
      'config.json: field "intermediate_size" must be a positive integer, got 12.5',
    );
  });

  it('rejects heads that are not a multiple of the KV heads', () => {
    expect(() => parseModelConfig(tinyConfig('LlamaForCausalLM', { num_attention_heads: 3, head_dim: 4, num_key_value_heads: 2 }))).toThrow(
      /"num_attention_heads" \(3\) must be a multiple of "num_key_value_heads" \(2\)/,
    );
  });

  it('rejects Llama with attention_bias, which would also bias o_proj', () => {
    expect(() => parseModelConfig(tinyConfig('LlamaForCausalLM', { attention_bias: true }))).toThrow(/also biases o_proj/);
  });

  it('rejects an activation other than silu', () => {
    expect(() => parseModelConfig(tinyConfig('LlamaForCausalLM', { hidden_act: 'gelu' }))).toThrow(
      'config.json: field "hidden_act" is "gelu"; thinktree\'s MLP implements silu only',
    );
  });

  it('rejects a config that is not an object', () => {
    expect(() => parseModelConfig([1])).toThrow('config.json: must hold a JSON object, got an array');
  });
});
