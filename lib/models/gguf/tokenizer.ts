/**
 * The tokenizer of a GGUF file (`tokenizer.ggml.*`) rebuilt as the tokenizer.json that the same model
 * ships on Hugging Face, then run by @huggingface/tokenizers through TextTokenizer, so a GGUF model
 * tokenizes exactly as its safetensors twin. Supported: the `gpt2` (byte-level BPE) family with the
 * pre-tokenizers of GPT-2, Qwen2 and Llama 3. The reverse (`tokenizerMetadata`) is what our writer
 * stores.
 */
import { GgufError } from '../errors.js';
import { TextTokenizer } from '../tokenizer.js';
import type { GgufValue } from './format.js';
import { GgufMetadata } from './metadata.js';
import type { GgufFile } from './reader.js';

/** llama.cpp's token types (`llama_token_type`). */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

/** Split regexes of the tokenizer.json files of each family (llama.cpp keys them by `tokenizer.ggml.pre`). */
const QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

type Json = Record<string, unknown>;

const byteLevel = (useRegex: boolean): Json => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: useRegex });
const split = (regex: string): Json => ({
  type: 'Sequence',
  pretokenizers: [{ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false }, byteLevel(false)],
});

/**
 * The pre-tokenizer of each supported `tokenizer.ggml.pre` (llama.cpp's names). llama.cpp's `default`
 * (also what a file without the key gets) splits with its own mix of regexes, which no tokenizer.json
 * reproduces, so it is refused rather than approximated.
 */
const PRE_TOKENIZERS: Readonly<Record<string, { pre: Json; ignoreMerges: boolean; normalizer: Json | null }>> = {
  'gpt-2': { pre: byteLevel(true), ignoreMerges: false, normalizer: null },
  // Qwen2's tokenizer.json normalizes to NFC before splitting.
  qwen2: { pre: split(QWEN2_SPLIT), ignoreMerges: false, normalizer: { type: 'NFC' } },
  'llama-bpe': { pre: split(LLAMA3_SPLIT), ignoreMerges: true, normalizer: null },
};
export const SUPPORTED_GGUF_PRE_TOKENIZERS = Object.keys(PRE_TOKENIZERS);

export interface GgufTokenizerParts {
  /** The tokenizer.json object. */
  json: Json;
  /** The tokenizer_config.json object: chat template, special token texts. */
  config: Json;
}

const str = (v: unknown, key: string, i: number, file: string): string => {
  if (typeof v !== 'string') throw new GgufError(file, `metadata ${JSON.stringify(key)}[${i}] must be a string`, key);
  return v;
};

/** Builds tokenizer.json / tokenizer_config.json objects from a file's `tokenizer.*` metadata. */
export function ggufTokenizerParts(gguf: GgufFile): GgufTokenizerParts {
  const meta = new GgufMetadata(gguf);
  const file = gguf.file;
  const model = meta.requiredString('tokenizer.ggml.model');
  if (model !== 'gpt2') {
    const family = model === 'llama' ? ' (SentencePiece: Llama 2, Mistral)' : '';
    throw new GgufError(file, `tokenizer family ${JSON.stringify(model)}${family} (metadata "tokenizer.ggml.model") is not supported; thinktree reads "gpt2" (byte-level BPE: Llama 3, Qwen2)`, 'tokenizer.ggml.model');
  }
  const preName = meta.string('tokenizer.ggml.pre') ?? '(none: llama.cpp\'s "default")';
  const pre = PRE_TOKENIZERS[preName];
  if (pre === undefined) {
    throw new GgufError(file, `pre-tokenizer ${JSON.stringify(preName)} (metadata "tokenizer.ggml.pre") is not supported; thinktree supports ${SUPPORTED_GGUF_PRE_TOKENIZERS.join(', ')}`, 'tokenizer.ggml.pre');
  }
  const tokens = meta.array('tokenizer.ggml.tokens', ['string']);
  if (tokens === undefined || tokens.length === 0) throw new GgufError(file, 'missing required metadata "tokenizer.ggml.tokens"', 'tokenizer.ggml.tokens');
  const types = meta.array('tokenizer.ggml.token_type', ['i32', 'u32', 'i8', 'u8']);
  if (types !== undefined && types.length !== tokens.length) {
    throw meta.fail('tokenizer.ggml.token_type', `has ${types.length} entries but tokenizer.ggml.tokens has ${tokens.length}`);
  }
  const merges = meta.array('tokenizer.ggml.merges', ['string']) ?? [];
  const vocab = Object.create(null) as Record<string, number>;
  const added: Json[] = [];
  const seen = new Set<string>();
  for (let id = 0; id < tokens.length; id++) {
    const text = str(tokens[id], 'tokenizer.ggml.tokens', id, file);
    const type = types === undefined ? TOKEN_TYPE.normal : Number(types[id]);
    // Unused ids ("[PAD151665]": embedding rows past the tokenizer) have no token, as in tokenizer.json.
    if (type === TOKEN_TYPE.unused) continue;
    if (Object.hasOwn(vocab, text) || seen.has(text)) throw meta.fail('tokenizer.ggml.tokens', `holds ${JSON.stringify(text)} twice (the second at id ${id})`);
    if (type === TOKEN_TYPE.control || type === TOKEN_TYPE.userDefined) {
      // Added tokens live outside the BPE vocabulary, as in the tokenizer.json they came from.
      seen.add(text);
      added.push({ id, content: text, single_word: false, lstrip: false, rstrip: false, normalized: type === TOKEN_TYPE.userDefined, special: type === TOKEN_TYPE.control });
    } else {
      vocab[text] = id;
    }
  }
  const mergePairs = merges.map((m, i) => {
    const s = str(m, 'tokenizer.ggml.merges', i, file);
    const parts = s.split(' ');
    if (parts.length !== 2) throw meta.fail('tokenizer.ggml.merges', `entry ${i} ${JSON.stringify(s)} must be two tokens separated by one space`);
    return parts;
  });
  const tokenText = (key: string): string | undefined => {
    const id = meta.optionalCount(key);
    if (id === undefined) return undefined;
    if (id >= tokens.length) throw meta.fail(key, `is ${id}, outside the ${tokens.length} tokens`);
    return tokens[id] as string;
  };
  const bos = tokenText('tokenizer.ggml.bos_token_id');
  const addBos = meta.bool('tokenizer.ggml.add_bos_token') ?? false;
  if (addBos && bos === undefined) throw meta.fail('tokenizer.ggml.add_bos_token', 'is true but the file has no tokenizer.ggml.bos_token_id');
  const bosId = meta.optionalCount('tokenizer.ggml.bos_token_id');
  const postProcessor: Json | null =
    addBos && bos !== undefined
      ? {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: bos, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { [bos]: { id: bos, ids: [bosId], tokens: [bos] } },
        }
      : null;
  const json: Json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: pre.normalizer,
    pre_tokenizer: pre.pre,
    post_processor: postProcessor,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: pre.ignoreMerges, vocab, merges: mergePairs,
    },
  };
  const config: Json = { clean_up_tokenization_spaces: false };
  const template = meta.string('tokenizer.chat_template');
  if (template !== undefined) config.chat_template = template;
  if (bos !== undefined) config.bos_token = bos;
  const eos = tokenText('tokenizer.ggml.eos_token_id');
  if (eos !== undefined) config.eos_token = eos;
  const pad = tokenText('tokenizer.ggml.padding_token_id');
  if (pad !== undefined) config.pad_token = pad;
  return { json, config };
}

/** The TextTokenizer of a GGUF file. */
export function ggufTokenizer(gguf: GgufFile, eosTokenIds: readonly number[], embeddingRows: number): TextTokenizer {
  const { json, config } = ggufTokenizerParts(gguf);
  return TextTokenizer.fromJson(json, config, { file: gguf.file, eosTokenIds, embeddingRows });
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Which `tokenizer.ggml.pre` a tokenizer.json's pre-tokenizer is, or undefined when none of ours. */
function preTokenizerName(pre: unknown): string | undefined {
  if (!isObject(pre)) return undefined;
  if (pre.type === 'ByteLevel' && pre.use_regex !== false && pre.add_prefix_space !== true) return 'gpt-2';
  if (pre.type !== 'Sequence' || !Array.isArray(pre.pretokenizers) || pre.pretokenizers.length !== 2) return undefined;
  const [s, b] = pre.pretokenizers as unknown[];
  if (!isObject(s) || !isObject(b) || s.type !== 'Split' || b.type !== 'ByteLevel' || b.use_regex !== false || b.add_prefix_space === true) return undefined;
  const regex = isObject(s.pattern) ? s.pattern.Regex : undefined;
  if (s.behavior !== 'Isolated' || s.invert === true) return undefined;
  if (regex === QWEN2_SPLIT) return 'qwen2';
  if (regex === LLAMA3_SPLIT) return 'llama-bpe';
  return undefined;
}

export interface TokenizerMetadataInput {
  tokenizerJson: unknown;
  tokenizerConfig: Readonly<Json>;
  /** Rows of the embedding: ids past the tokenizer's last are written as unused padding tokens. */
  vocabSize: number;
  bosTokenId: number | undefined;
  eosTokenIds: readonly number[];
  file: string;
}

/** `tokenizer.*` metadata for a byte-level BPE tokenizer.json (the writer's side of ggufTokenizerParts). */
export function tokenizerMetadata(input: TokenizerMetadataInput): Array<[string, GgufValue]> {
  const { tokenizerJson: tj, file } = input;
  const fail = (msg: string) => new GgufError(file, msg);
  if (!isObject(tj) || !isObject(tj.model) || tj.model.type !== 'BPE' || !isObject(tj.model.vocab)) {
    throw fail('only byte-level BPE tokenizers (model.type "BPE") can be written to GGUF');
  }
  const pre = preTokenizerName(tj.pre_tokenizer);
  if (pre === undefined) {
    throw fail(`its pre-tokenizer ${JSON.stringify(tj.pre_tokenizer).slice(0, 120)} is none of GGUF's gpt-2, qwen2, llama-bpe; it cannot be written to GGUF`);
  }
  // The family fixes the normalizer; another one would be lost in the file.
  const wantNorm = PRE_TOKENIZERS[pre]!.normalizer;
  if (JSON.stringify(tj.normalizer ?? null) !== JSON.stringify(wantNorm)) {
    throw fail(`its normalizer ${JSON.stringify(tj.normalizer ?? null)} is not the ${pre} family's (${JSON.stringify(wantNorm)}); GGUF cannot carry it`);
  }
  const tokens: string[] = [];
  const types: number[] = [];
  for (const [text, id] of Object.entries(tj.model.vocab as Record<string, number>)) {
    tokens[id] = text;
    types[id] = TOKEN_TYPE.normal;
  }
  for (const t of (Array.isArray(tj.added_tokens) ? tj.added_tokens : []) as Json[]) {
    const id = t.id as number;
    tokens[id] = t.content as string;
    types[id] = t.special === true ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined;
  }
  // Embedding rows past the tokenizer (Qwen2.5 pads 151665 tokens to 151936 rows) become unused tokens, as llama.cpp's converter writes them.
  const n = Math.max(tokens.length, input.vocabSize);
  for (let id = 0; id < n; id++) {
    if (tokens[id] === undefined) {
      tokens[id] = `[PAD${id}]`;
      types[id] = TOKEN_TYPE.unused;
    }
  }
  const merges = ((tj.model.merges ?? []) as unknown[]).map((m) => (Array.isArray(m) ? m.join(' ') : String(m)));
  // A BOS template, alone or inside a Sequence (Llama 3: ByteLevel then TemplateProcessing).
  const post = tj.post_processor;
  const processors = isObject(post) && post.type === 'Sequence' && Array.isArray(post.processors) ? (post.processors as unknown[]) : [post];
  const addBos = processors.some(
    (p) => isObject(p) && p.type === 'TemplateProcessing' && Array.isArray(p.single) && isObject(p.single[0]) && 'SpecialToken' in p.single[0],
  );
  const out: Array<[string, GgufValue]> = [
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: pre }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: tokens }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: types }],
    ['tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: merges }],
  ];
  if (input.bosTokenId !== undefined) out.push(['tokenizer.ggml.bos_token_id', { type: 'u32', value: input.bosTokenId }]);
  if (input.eosTokenIds[0] !== undefined) out.push(['tokenizer.ggml.eos_token_id', { type: 'u32', value: input.eosTokenIds[0] }]);
  if (input.eosTokenIds[1] !== undefined) out.push(['tokenizer.ggml.eot_token_id', { type: 'u32', value: input.eosTokenIds[1] }]);
  out.push(['tokenizer.ggml.add_bos_token', { type: 'bool', value: addBos }]);
  const template = input.tokenizerConfig.chat_template;
  if (typeof template === 'string') out.push(['tokenizer.chat_template', { type: 'string', value: template }]);
  return out;
}
