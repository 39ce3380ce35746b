/**
 * Small Hugging Face model directories for tests: config.json, tokenizer.json, tokenizer_config.json
 * and safetensors files in the layouts real checkpoints use, with tiny shapes.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeSafetensors, type TensorInput } from '../../lib/models/safetensors.js';

// ---------------------------------------------------------------------------------------------
// tokenizer.json

/**
 * GPT-2 byte → character map, built directly from its definition: bytes that are printable Latin-1
 * ('!'..'~', '¡'..'¬', '®'..'ÿ') are their own character; the rest, in byte order, take U+0100,
 * U+0101, ... (so 0x20, the 33rd non-printable byte, becomes U+0120 'Ġ').
 */
export function gpt2ByteChars(): string[] {
  const chars: string[] = [];
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    chars.push(keep ? String.fromCharCode(b) : String.fromCharCode(256 + shifted++));
  }
  return chars;
}

/** Byte-level spelling of a UTF-8 string. */
export function byteLevel(text: string): string {
  const chars = gpt2ByteChars();
  return Array.from(Buffer.from(text, 'utf8'), (b) => chars[b]).join('');
}

export const BYTE_LEVEL_SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];

/**
 * A byte-level BPE tokenizer (GPT-2 / Qwen2 layout): ids 0..255 are the byte symbols in byte order,
 * then one token per merge, then the special tokens. Merges spell a few common words and glue the
 * first two bytes of 4-byte emoji, so encoding exercises multi-byte tokens.
 */
export function byteLevelTokenizerJson(): Record<string, unknown> {
  const chars = gpt2ByteChars();
  const vocab: Record<string, number> = {};
  chars.forEach((c, b) => (vocab[c] = b));
  const pairs: Array<[string, string]> = [
    [byteLevel(' '), 't'],
    ['h', 'e'],
    [byteLevel(' t'), 'he'],
    ['i', 'n'],
    [byteLevel(' '), 'in'],
    ['l', 'l'],
    ['e', 'll'],
    ['h', 'ell'],
    [byteLevel('\u{1F600}').slice(0, 1), byteLevel('\u{1F600}').slice(1, 2)],
  ];
  const merges: string[] = [];
  for (const [a, b] of pairs) {
    vocab[a + b] = Object.keys(vocab).length;
    merges.push(`${a} ${b}`);
  }
  const first = Object.keys(vocab).length;
  const added = BYTE_LEVEL_SPECIALS.map((content, i) => ({
    id: first + i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

/** ChatML, as Qwen2.5 writes it (without the tool-calling branches). */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export function byteLevelTokenizerConfig(): Record<string, unknown> {
  return {
    bos_token: null,
    eos_token: '<|im_end|>',
    pad_token: '<|endoftext|>',
    clean_up_tokenization_spaces: false,
    chat_template: CHATML_TEMPLATE,
  };
}

/**
 * A SentencePiece-style BPE tokenizer with byte fallback (Llama 2 / Mistral v0.1 layout):
 * <unk>, <s>, </s>, then <0x00>..<0xFF>, then pieces where '▁' marks a space. Text is normalized by
 * prepending '▁' and replacing spaces with '▁'; the decoder undoes it and strips the leading space.
 */
export function metaspaceTokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  const singles = ['\u2581', 'a', 'b', 'c', 'h', 'i', 'l', 'o', 't', 'e'];
  for (const s of singles) vocab[s] = Object.keys(vocab).length;
  const pairs: Array<[string, string]> = [
    ['\u2581', 't'],
    ['h', 'e'],
    ['\u2581t', 'he'],
    ['\u2581', 'a'],
  ];
  const merges: string[] = [];
  for (const [a, b] of pairs) {
    vocab[a + b] = Object.keys(vocab).length;
    merges.push(`${a} ${b}`);
  }
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '\u2581' },
        { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab,
      merges,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// config.json

export type TestArch = 'LlamaForCausalLM' | 'Qwen2ForCausalLM' | 'MistralForCausalLM';

/** A tiny config.json: hidden 8, 2 layers, 2 heads of 4, 1 KV head, intermediate 12. */
export function tinyConfig(arch: TestArch = 'LlamaForCausalLM', overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const modelType = { LlamaForCausalLM: 'llama', Qwen2ForCausalLM: 'qwen2', MistralForCausalLM: 'mistral' }[arch];
  return {
    architectures: [arch],
    model_type: modelType,
    hidden_size: 8,
    intermediate_size: 12,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    vocab_size: 272,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    hidden_act: 'silu',
    max_position_embeddings: 128,
    tie_word_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 2,
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// safetensors

/**
 * The tensors of a Llama-family checkpoint for `config`, written out independently of the loader's
 * own table. Values are a deterministic ramp so files differ by content, not just by shape.
 */
export function tinyTensors(config: Record<string, unknown>, dtype: 'F32' | 'F16' | 'BF16' = 'F32'): Map<string, TensorInput> {
  const h = config.hidden_size as number;
  const inter = config.intermediate_size as number;
  const heads = config.num_attention_heads as number;
  const kvHeads = (config.num_key_value_heads as number | undefined) ?? heads;
  const hd = (config.head_dim as number | undefined) ?? h / heads;
  const vocab = config.vocab_size as number;
  const qwen = (config.architectures as string[])[0] === 'Qwen2ForCausalLM';
  const shapes: Array<[string, number[]]> = [['model.embed_tokens.weight', [vocab, h]]];
  for (let i = 0; i < (config.num_hidden_layers as number); i++) {
    const p = `model.layers.${i}`;
    shapes.push(
      [`${p}.self_attn.q_proj.weight`, [heads * hd, h]],
      [`${p}.self_attn.k_proj.weight`, [kvHeads * hd, h]],
      [`${p}.self_attn.v_proj.weight`, [kvHeads * hd, h]],
      [`${p}.self_attn.o_proj.weight`, [h, heads * hd]],
      [`${p}.mlp.gate_proj.weight`, [inter, h]],
      [`${p}.mlp.up_proj.weight`, [inter, h]],
      [`${p}.mlp.down_proj.weight`, [h, inter]],
      [`${p}.input_layernorm.weight`, [h]],
      [`${p}.post_attention_layernorm.weight`, [h]],
    );
    if (qwen) {
      shapes.push(
        [`${p}.self_attn.q_proj.bias`, [heads * hd]],
        [`${p}.self_attn.k_proj.bias`, [kvHeads * hd]],
        [`${p}.self_attn.v_proj.bias`, [kvHeads * hd]],
      );
    }
  }
  shapes.push(['model.norm.weight', [h]]);
  if (config.tie_word_embeddings !== true) shapes.push(['lm_head.weight', [vocab, h]]);
  const out = new Map<string, TensorInput>();
  let seed = 1;
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (dtype === 'F32') {
      out.set(name, { dtype, shape, data: Float32Array.from({ length: n }, (_, i) => ((seed + i) % 17) / 17 - 0.5) });
    } else {
      // Raw 16-bit patterns; the loader never interprets weight values.
      out.set(name, { dtype, shape, data: Uint16Array.from({ length: n }, (_, i) => (seed * 31 + i) & 0x3bff) });
    }
    seed++;
  }
  return out;
}

/** A safetensors file from a literal header string and data bytes (for malformed inputs). */
export function rawSafetensors(header: string, data: Uint8Array = new Uint8Array(0), lengthField?: bigint): Uint8Array {
  const h = Buffer.from(header, 'utf8');
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

// ---------------------------------------------------------------------------------------------
// model directories

export async function tempDir(prefix = 'thinktree-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface ModelDirOptions {
  config?: Record<string, unknown>;
  generationConfig?: Record<string, unknown>;
  tokenizer?: Record<string, unknown>;
  tokenizerConfig?: Record<string, unknown> | null;
  tensors?: Map<string, TensorInput>;
  /** Split the tensors over this many shards with a model.safetensors.index.json. */
  shards?: number;
  /** Edit the index's weight_map before it is written (to make broken indexes). */
  editWeightMap?: (map: Record<string, string>) => void;
}

/** Writes a complete tiny model directory into `dir`. */
export async function writeModelDir(dir: string, o: ModelDirOptions = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const config = o.config ?? tinyConfig();
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  if (o.generationConfig) await writeFile(path.join(dir, 'generation_config.json'), JSON.stringify(o.generationConfig));
  await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(o.tokenizer ?? byteLevelTokenizerJson()));
  if (o.tokenizerConfig !== null) {
    await writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify(o.tokenizerConfig ?? byteLevelTokenizerConfig()));
  }
  const tensors = o.tensors ?? tinyTensors(config);
  const shards = o.shards ?? 1;
  if (shards === 1) {
    await writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
    return;
  }
  const names = [...tensors.keys()];
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = new Map(names.filter((_, i) => i % shards === s).map((n) => [n, tensors.get(n)!]));
    for (const n of part.keys()) weightMap[n] = file;
    await writeSafetensors(path.join(dir, file), part, { format: 'pt' });
  }
  o.editWeightMap?.(weightMap);
  await writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
}
