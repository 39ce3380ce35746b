// Guards the committed tiny-model fixtures (test/fixtures/tiny/*): the files parse, the binary layouts
// are self-consistent, the tokenizer loads in the JS library the package uses, and the reference
// logits are sharp enough for greedy parity tests. No native code: this must pass before any engine
// test that reads these files can mean anything.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';

const TINY = fileURLToPath(new URL('./fixtures/tiny/', import.meta.url));
// Every directory under tiny/ is checked; these four must exist (other test files depend on them).
const REQUIRED = ['llama-bf16-sharded', 'llama-f32', 'mistral-f16', 'qwen2-bf16'];
const FIXTURES = readdirSync(TINY, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();
const MODEL_TYPES: Record<string, string> = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  MistralForCausalLM: 'mistral',
};
const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };
const TORCH_DTYPE: Record<string, string> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' };

interface TensorInfo {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}
interface SafetensorsFile {
  tensors: Record<string, TensorInfo>;
  metadata: Record<string, string> | undefined;
  headerLength: number;
  dataLength: number;
}
interface LogitsBlock {
  byteOffset: number;
  rows: number;
  cols: number;
}
interface ReferencePrompt {
  name: string;
  text: string;
  tokens: number[];
  logits: LogitsBlock;
  greedy: { tokens: number[]; margins: number[]; logits: LogitsBlock };
}
interface ReferenceDoc {
  totalBytes: number;
  vocabSize: number;
  tokenizerSize: number;
  headDim: number;
  ropeInvFreq: number[];
  layerWindows: (number | null)[];
  prompts: ReferencePrompt[];
}

const readJson = (dir: string, file: string) => JSON.parse(readFileSync(join(TINY, dir, file), 'utf8'));

/** Parse a safetensors file by hand: u64 LE header length, JSON header, then the data section. */
function readSafetensors(path: string): SafetensorsFile {
  const buf = readFileSync(path);
  const headerLength = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLength).toString('utf8'));
  const { __metadata__: metadata, ...tensors } = header;
  return { tensors, metadata, headerLength, dataLength: buf.length - 8 - headerLength };
}

function weightFiles(dir: string): string[] {
  if (existsSync(join(TINY, dir, 'model.safetensors.index.json'))) {
    const index = readJson(dir, 'model.safetensors.index.json');
    return [...new Set<string>(Object.values(index.weight_map))].sort();
  }
  return ['model.safetensors'];
}

function allTensors(dir: string): Record<string, TensorInfo> {
  return Object.assign({}, ...weightFiles(dir).map((f) => readSafetensors(join(TINY, dir, f)).tensors));
}

function logitsRows(dir: string, block: LogitsBlock): Float32Array[] {
  const buf = readFileSync(join(TINY, dir, 'reference-logits.bin'));
  // Copy: the Buffer's byteOffset inside its pool need not be 4-aligned.
  const floats = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  const first = block.byteOffset / 4;
  return Array.from({ length: block.rows }, (_, r) =>
    floats.subarray(first + r * block.cols, first + (r + 1) * block.cols),
  );
}

/** Index of the largest value (first one on ties) and its gap to the runner-up. */
function top2(row: Float32Array): { argmax: number; margin: number } {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  let second = -Infinity;
  for (let i = 0; i < row.length; i++) if (i !== best && row[i] > second) second = row[i];
  return { argmax: best, margin: row[best] - second };
}

function loadTokenizer(dir: string): Tokenizer {
  return new Tokenizer(readJson(dir, 'tokenizer.json'), readJson(dir, 'tokenizer_config.json'));
}

it('the fixture directory holds the four models the engine tests rely on', () => {
  expect(FIXTURES).toEqual(expect.arrayContaining(REQUIRED));
});

describe.each(FIXTURES)('fixture %s', (dir) => {
  const config = readJson(dir, 'config.json');
  const ref: ReferenceDoc = readJson(dir, 'reference.json');

  it('config.json names a supported architecture with consistent attention sizes', () => {
    const arch = config.architectures[0];
    expect(MODEL_TYPES[arch]).toBe(config.model_type);
    expect(config.hidden_size % config.num_attention_heads).toBe(0);
    expect(config.num_attention_heads % config.num_key_value_heads).toBe(0);
    expect(ref.headDim).toBe(config.head_dim ?? config.hidden_size / config.num_attention_heads);
    expect(ref.vocabSize).toBe(config.vocab_size);
    expect(config.vocab_size).toBeGreaterThanOrEqual(ref.tokenizerSize);
  });

  it('generation_config.json agrees with config.json on bos and eos', () => {
    const gen = readJson(dir, 'generation_config.json');
    expect(gen.bos_token_id).toBe(config.bos_token_id);
    expect(gen.eos_token_id).toEqual(config.eos_token_id);
  });

  it('safetensors headers have contiguous offsets that cover the data section exactly', () => {
    for (const file of weightFiles(dir)) {
      const st = readSafetensors(join(TINY, dir, file));
      expect(st.metadata).toEqual({ format: 'pt' });
      expect((8 + st.headerLength) % 8).toBe(0);
      const spans = Object.values(st.tensors)
        .map((t) => {
          const count = t.shape.reduce((a, b) => a * b, 1);
          expect(t.data_offsets[1] - t.data_offsets[0]).toBe(count * DTYPE_BYTES[t.dtype]);
          return t.data_offsets;
        })
        .sort((a, b) => a[0] - b[0]);
      let cursor = 0;
      for (const [begin, end] of spans) {
        expect(begin).toBe(cursor);
        cursor = end;
      }
      expect(cursor).toBe(st.dataLength);
    }
  });

  it('every tensor is stored in the dtype config.json declares', () => {
    const dtypes = new Set(Object.values(allTensors(dir)).map((t) => t.dtype));
    expect([...dtypes]).toEqual([TORCH_DTYPE[config.torch_dtype]]);
  });

  it('the checkpoint holds every tensor the architecture reads, with Hugging Face shapes', () => {
    const tensors = allTensors(dir);
    const h = config.hidden_size;
    const headDim = config.head_dim ?? h / config.num_attention_heads;
    const q = config.num_attention_heads * headDim;
    const kv = config.num_key_value_heads * headDim;
    const inter = config.intermediate_size;
    const expected: Record<string, number[]> = {
      'model.embed_tokens.weight': [config.vocab_size, h],
      'model.norm.weight': [h],
    };
    if (!config.tie_word_embeddings) expected['lm_head.weight'] = [config.vocab_size, h];
    for (let l = 0; l < config.num_hidden_layers; l++) {
      const p = `model.layers.${l}.`;
      Object.assign(expected, {
        [`${p}input_layernorm.weight`]: [h],
        [`${p}post_attention_layernorm.weight`]: [h],
        [`${p}self_attn.q_proj.weight`]: [q, h],
        [`${p}self_attn.k_proj.weight`]: [kv, h],
        [`${p}self_attn.v_proj.weight`]: [kv, h],
        [`${p}self_attn.o_proj.weight`]: [h, q],
        [`${p}mlp.gate_proj.weight`]: [inter, h],
        [`${p}mlp.up_proj.weight`]: [inter, h],
        [`${p}mlp.down_proj.weight`]: [h, inter],
      });
      if (config.model_type === 'qwen2') {
        Object.assign(expected, {
          [`${p}self_attn.q_proj.bias`]: [q],
          [`${p}self_attn.k_proj.bias`]: [kv],
          [`${p}self_attn.v_proj.bias`]: [kv],
        });
      }
    }
    const shapes = Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, t.shape]));
    expect(shapes).toEqual(expected);
  });

  it('a sharded index maps each tensor to the shard that stores it and sums total_size', () => {
    const indexPath = join(TINY, dir, 'model.safetensors.index.json');
    if (!existsSync(indexPath)) {
      expect(weightFiles(dir)).toEqual(['model.safetensors']);
      return;
    }
    const index = readJson(dir, 'model.safetensors.index.json');
    let total = 0;
    const seen: Record<string, string> = {};
    for (const file of weightFiles(dir)) {
      const st = readSafetensors(join(TINY, dir, file));
      total += st.dataLength;
      for (const name of Object.keys(st.tensors)) seen[name] = file;
    }
    expect(seen).toEqual(index.weight_map);
    expect(index.metadata.total_size).toBe(total);
  });

  it('the reference layer windows follow the sliding-window rule of config.json', () => {
    const layers: number = config.num_hidden_layers;
    let expected: (number | null)[];
    if (config.model_type === 'mistral') {
      expected = Array(layers).fill(config.sliding_window ?? null);
    } else if (config.model_type === 'qwen2') {
      const window = config.use_sliding_window ? config.sliding_window : null;
      expected = Array.from({ length: layers }, (_, i) =>
        window !== null && i >= config.max_window_layers ? window : null,
      );
      expect(config.layer_types).toEqual(expected.map((w) => (w === null ? 'full_attention' : 'sliding_attention')));
    } else {
      expected = Array(layers).fill(null);
    }
    expect(ref.layerWindows).toEqual(expected);
  });

  it('reference.json blocks tile reference-logits.bin as f32 rows of vocab_size', () => {
    const size = readFileSync(join(TINY, dir, 'reference-logits.bin')).length;
    expect(ref.totalBytes).toBe(size);
    let cursor = 0;
    for (const p of ref.prompts) {
      expect(p.logits).toEqual({ byteOffset: cursor, rows: p.tokens.length, cols: config.vocab_size });
      cursor += p.logits.rows * p.logits.cols * 4;
      expect(p.greedy.logits).toEqual({ byteOffset: cursor, rows: p.greedy.tokens.length, cols: config.vocab_size });
      cursor += p.greedy.logits.rows * p.greedy.logits.cols * 4;
    }
    expect(cursor).toBe(size);
  });

  it('prompts are longer than every sliding window and their tokens are in the vocab', () => {
    const widest = Math.max(0, ...ref.layerWindows.map((w) => w ?? 0));
    for (const p of ref.prompts) {
      expect(p.tokens.length).toBeGreaterThan(widest);
      expect(p.tokens.length).toBeGreaterThanOrEqual(20);
      expect(p.tokens.length).toBeLessThanOrEqual(40);
      for (const t of [...p.tokens, ...p.greedy.tokens]) expect(t >= 0 && t < config.vocab_size).toBe(true);
    }
  });

  it('every stored logit is finite', () => {
    for (const p of ref.prompts) {
      for (const row of [...logitsRows(dir, p.logits), ...logitsRows(dir, p.greedy.logits)]) {
        expect(row.every(Number.isFinite)).toBe(true);
      }
    }
  });

  it('the first greedy step sees the same logits as the last prompt position', () => {
    for (const p of ref.prompts) {
      const promptRows = logitsRows(dir, p.logits);
      expect(logitsRows(dir, p.greedy.logits)[0]).toEqual(promptRows[promptRows.length - 1]);
    }
  });

  it('greedy tokens are the argmax of the stored step logits and margins are their top-2 gaps', () => {
    for (const p of ref.prompts) {
      const steps = logitsRows(dir, p.greedy.logits).map(top2);
      expect(steps.map((s) => s.argmax)).toEqual(p.greedy.tokens);
      steps.forEach((s, i) => expect(s.margin).toBeCloseTo(p.greedy.margins[i], 4));
    }
  });

  it('reference logits are not degenerate: most greedy margins exceed 0.5', () => {
    const margins = ref.prompts.flatMap((p) => p.greedy.margins);
    const sharp = margins.filter((m) => m > 0.5).length;
    expect(sharp / margins.length).toBeGreaterThanOrEqual(2 / 3);
  });

  it('the JS tokenizer loads tokenizer.json and round-trips text', () => {
    const tok = loadTokenizer(dir);
    const text = 'Step 1: 3 + 4 = 7.\n\n  Größe × 2 ≈ π 😀 <|im_start|>user\nhi<|im_end|>\n';
    const ids: number[] = tok.encode(text).ids;
    expect(ids.every((id: number) => id < ref.tokenizerSize)).toBe(true);
    expect(tok.decode(ids)).toBe(text);
  });

  it('the JS tokenizer encodes each prompt text to the stored reference tokens', () => {
    const tok = loadTokenizer(dir);
    for (const p of ref.prompts) expect(tok.encode(p.text).ids).toEqual(p.tokens);
  });
});

it('the chat template renders ChatML with a default system turn and a generation prompt', () => {
  const cfg = readJson('qwen2-bf16', 'tokenizer_config.json');
  const out = new Template(cfg.chat_template).render({
    messages: [{ role: 'user', content: 'What is 2 + 2?' }],
    add_generation_prompt: true,
  });
  expect(out).toBe(
    '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' +
      '<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n' +
      '<|im_start|>assistant\n',
  );
});
