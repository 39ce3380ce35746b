/**
 * tokenizer.json (+ tokenizer_config.json) → TextTokenizer: encode/decode through
 * @huggingface/tokenizers, plus what native code needs to match stop strings on bytes: the raw
 * UTF-8 bytes of every token id.
 */
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { TokenizerError, type FileReadError } from './errors.js';
import { readTextFile } from './files.js';
import { applyChatTemplate, specialTokenText, type ChatMessage, type ChatTemplateOptions } from './chat-template.js';

/**
 * How a vocabulary string spells bytes:
 * - 'byte-level' (GPT-2, Llama 3, Qwen2): every byte is one printable character of the GPT-2
 *   bytes-to-unicode table;
 * - 'metaspace' (SentencePiece: Llama 2, Mistral): '▁' stands for a space and, with byte fallback,
 *   `<0xNN>` for the byte NN; other characters are themselves;
 * - 'plain': token strings are their text.
 */
export type TokenStyle = 'byte-level' | 'metaspace' | 'plain';

export interface TokenBytes {
  /** Bytes of every token id, concatenated: token t is bytes[offsets[t] .. offsets[t + 1]). */
  bytes: Uint8Array;
  /** [vocabSize + 1] */
  offsets: Uint32Array;
}

export interface TokenizerOptions {
  /** Name used in messages. @default 'tokenizer.json' */
  file?: string;
  /** End-of-generation ids (from config.json / generation_config.json); empty → tokenizer_config's eos_token. */
  eosTokenIds?: readonly number[];
  /** Rows of the model's embedding matrix; a tokenizer with more ids cannot run on it. */
  embeddingRows?: number;
}

type Json = Record<string, unknown>;

const utf8 = new TextEncoder();

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * GPT-2's byte ↔ character table, inverted: printable Latin-1 bytes are their own character, the
 * other 68 bytes take U+0100 upwards in byte order, so every byte string becomes printable text
 * without whitespace. Indexed by UTF-16 code unit; -1 for characters that are not byte symbols.
 */
const BYTE_OF_CHAR: Int16Array = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table = new Int16Array(0x100 + 68).fill(-1);
  let next = 0x100;
  for (let b = 0; b < 256; b++) table[printable(b) ? b : next++] = b;
  return table;
})();

/** Collects the `type`s of a component and of the components nested in a Sequence. */
function componentTypes(c: unknown): Json[] {
  if (!isObject(c)) return [];
  const nested = [c.decoders, c.pretokenizers, c.normalizers].flatMap((list) => (Array.isArray(list) ? list.flatMap(componentTypes) : []));
  return [c, ...nested];
}

function detectStyle(json: Json): { style: TokenStyle; replacement: string; byteFallback: boolean } {
  const parts = [...componentTypes(json.decoder), ...componentTypes(json.pre_tokenizer), ...componentTypes(json.normalizer)];
  const model = isObject(json.model) ? json.model : {};
  const byteFallback = model.byte_fallback === true || parts.some((p) => p.type === 'ByteFallback');
  if (parts.some((p) => p.type === 'ByteLevel')) return { style: 'byte-level', replacement: '', byteFallback: false };
  const meta = parts.find((p) => p.type === 'Metaspace');
  if (meta !== undefined) {
    return { style: 'metaspace', replacement: typeof meta.replacement === 'string' ? meta.replacement : '\u2581', byteFallback };
  }
  // Llama 2 style: Replace(' ' → '▁') in the normalizer, Replace('▁' → ' ') + ByteFallback in the decoder.
  const replacesMeta = parts.some(
    (p) => p.type === 'Replace' && isObject(p.pattern) && (p.pattern.String === '\u2581' || p.content === '\u2581'),
  );
  if (replacesMeta || byteFallback) return { style: 'metaspace', replacement: '\u2581', byteFallback };
  return { style: 'plain', replacement: '', byteFallback: false };
}

interface AddedEntry {
  id: number;
  content: string;
  special: boolean;
}

function addedTokens(json: Json, file: string): AddedEntry[] {
  const list = json.added_tokens ?? [];
  if (!Array.isArray(list)) throw new TokenizerError(file, '"added_tokens" must be a list');
  return list.map((t, i) => {
    if (!isObject(t) || typeof t.content !== 'string' || typeof t.id !== 'number' || !Number.isSafeInteger(t.id) || t.id < 0) {
      throw new TokenizerError(file, `added_tokens[${i}] must have a string "content" and a non-negative integer "id"`);
    }
    return { id: t.id, content: t.content, special: t.special === true };
  });
}

/** The tokenizer models @huggingface/tokenizers implements. */
export const SUPPORTED_TOKENIZER_MODELS = ['BPE', 'WordPiece', 'Unigram', 'WordLevel'] as const;

/**
 * Refuses a `model.type` the library does not implement. The library falls back on other types
 * (an absent type is guessed from the fields, an unknown one may be read as something else), so a
 * vocabulary it cannot honour would encode silently wrong.
 */
function checkModelType(model: Json, file: string): void {
  const type = model.type;
  if (type === undefined) return; // older exports omit the type; the library infers it from the fields
  if (typeof type !== 'string' || !(SUPPORTED_TOKENIZER_MODELS as readonly string[]).includes(type)) {
    throw new TokenizerError(
      file,
      `field "model.type" is ${JSON.stringify(type)}; @huggingface/tokenizers supports ${SUPPORTED_TOKENIZER_MODELS.join(', ')}`,
    );
  }
}

export class TextTokenizer {
  /** Number of token ids, added tokens included: the largest id + 1. */
  readonly vocabSize: number;
  readonly eosTokenIds: readonly number[];
  readonly style: TokenStyle;
  private cachedBytes: TokenBytes | undefined;
  private cachedSpecial: readonly string[] | undefined;

  private constructor(
    private readonly tok: Tokenizer,
    /** id → vocabulary string (the library's table; holes are ids with no token). */
    private readonly base: readonly (string | undefined)[],
    private readonly added: Map<number, AddedEntry>,
    private readonly styleInfo: ReturnType<typeof detectStyle>,
    /** tokenizer_config.json (chat template, special tokens), as read. */
    readonly tokenizerConfig: Readonly<Json>,
    eosTokenIds: readonly number[],
    private readonly cleanUpSpaces: boolean,
  ) {
    let size = base.length;
    for (const id of added.keys()) size = Math.max(size, id + 1);
    this.vocabSize = size;
    this.style = styleInfo.style;
    this.eosTokenIds = Object.freeze([...eosTokenIds]);
  }

  /** Builds a tokenizer from parsed tokenizer.json and tokenizer_config.json objects. */
  static fromJson(tokenizerJson: unknown, tokenizerConfig: unknown = {}, options: TokenizerOptions = {}): TextTokenizer {
    const file = options.file ?? 'tokenizer.json';
    if (!isObject(tokenizerJson)) throw new TokenizerError(file, 'must hold a JSON object');
    if (!isObject(tokenizerConfig)) throw new TokenizerError(file, 'tokenizer_config.json must hold a JSON object');
    if (!isObject(tokenizerJson.model)) throw new TokenizerError(file, 'has no "model" object');
    checkModelType(tokenizerJson.model, file);
    const added = new Map(addedTokens(tokenizerJson, file).map((t) => [t.id, t]));
    // The library requires these keys to exist (null is fine); older exports omit some.
    const complete: Json = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...tokenizerJson };
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(complete, tokenizerConfig);
    } catch (err) {
      throw new TokenizerError(file, `cannot be used by @huggingface/tokenizers: ${(err as Error).message}`);
    }
    let eos = options.eosTokenIds ?? [];
    if (eos.length === 0) {
      const text = specialTokenText(tokenizerConfig.eos_token);
      const id = text === undefined ? undefined : tok.token_to_id(text);
      if (id !== undefined) eos = [id];
    }
    const cleanUp = tokenizerConfig.clean_up_tokenization_spaces === true;
    // Reuse the library's id → token array: walking a 150k-entry vocab object again costs ~0.5 s.
    const base = tok.model?.vocab ?? [];
    const t = new TextTokenizer(tok, base, added, detectStyle(tokenizerJson), tokenizerConfig, eos, cleanUp);
    if (t.vocabSize === 0) throw new TokenizerError(file, 'has an empty vocabulary (no tokens in model.vocab or added_tokens)');
    if (options.embeddingRows !== undefined && t.vocabSize > options.embeddingRows) {
      throw new TokenizerError(
        file,
        `has ${t.vocabSize} token ids but the model's embedding has only ${options.embeddingRows} rows (config.json vocab_size ${options.embeddingRows})`,
      );
    }
    return t;
  }

  /**
   * Reads tokenizer.json, tokenizer_config.json (optional) and chat_template.jinja (optional; newer
   * transformers saves the chat template there instead of in tokenizer_config.json).
   */
  static async fromDirectory(dir: string, options: Omit<TokenizerOptions, 'file'> = {}): Promise<TextTokenizer> {
    const file = path.join(dir, 'tokenizer.json');
    const json = await readJsonFile(file, true);
    const configFile = path.join(dir, 'tokenizer_config.json');
    const config = ((await readJsonFile(configFile, false)) ?? {}) as Json;
    if (!isObject(config)) throw new TokenizerError(configFile, 'must hold a JSON object');
    if (config.chat_template === undefined) {
      const templateFile = path.join(dir, 'chat_template.jinja');
      try {
        config.chat_template = await readTextFile(templateFile, 'read the chat template');
      } catch (err) {
        if ((err as FileReadError).code !== 'ENOENT') throw err;
      }
    }
    return TextTokenizer.fromJson(json, config, { ...options, file });
  }

  /** Token ids of `text`; `addSpecialTokens` applies the post-processor (e.g. a leading BOS). */
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): Int32Array {
    return Int32Array.from(this.tok.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids);
  }

  decode(ids: ArrayLike<number>, options: { skipSpecialTokens?: boolean } = {}): string {
    const list = Array.from(ids);
    if (list.length === 0) return '';
    for (let i = 0; i < list.length; i++) {
      const id = list[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new RangeError(`token id at index ${i} is ${id}, outside the vocabulary [0, ${this.vocabSize})`);
      }
    }
    return this.tok.decode(list, {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: this.cleanUpSpaces,
    });
  }

  /** The id of exactly this token (vocabulary or added/special token), or undefined. */
  tokenId(text: string): number | undefined {
    // The library registers added tokens in the same token → id map as the model vocabulary.
    return this.tok.token_to_id(text);
  }

  /**
   * The texts of the added tokens marked special (`<|im_end|>`, `<|endoftext|>`, ...), longest first:
   * text that contains one encodes to that control token, so user text given to a fixed layout (a PRM
   * step) must not.
   */
  get specialTokenTexts(): readonly string[] {
    this.cachedSpecial ??= [...this.added.values()]
      .filter((t) => t.special && t.content.length > 0)
      .map((t) => t.content)
      .sort((a, b) => b.length - a.length);
    return this.cachedSpecial;
  }

  /** Whether `id` is an added token marked special (skipped by decode with skipSpecialTokens). */
  isSpecial(id: number): boolean {
    return this.added.get(id)?.special === true;
  }

  /** Raw bytes of one token id (empty for ids with no token). */
  bytesOf(id: number): Uint8Array {
    const { bytes, offsets } = this.tokenBytes();
    return bytes.subarray(offsets[id], offsets[id + 1]);
  }

  /** Bytes of every token id, for native stop-string matching and byte-level decoding. Built once. */
  tokenBytes(): TokenBytes {
    if (this.cachedBytes !== undefined) return this.cachedBytes;
    const sink = new ByteSink();
    const offsets = new Uint32Array(this.vocabSize + 1);
    const { replacement, byteFallback } = this.styleInfo;
    for (let id = 0; id < this.vocabSize; id++) {
      offsets[id] = sink.length;
      const added = this.added.get(id);
      const text = this.base[id];
      if (added !== undefined) sink.utf8(added.content);
      else if (text === undefined) continue;
      else if (this.style === 'byte-level') sink.byteLevel(text);
      else if (this.style === 'metaspace') sink.metaspace(text, replacement, byteFallback);
      else sink.utf8(text);
    }
    offsets[this.vocabSize] = sink.length;
    this.cachedBytes = { bytes: sink.bytes(), offsets };
    return this.cachedBytes;
  }

  /** Renders messages with tokenizer_config.json's chat template. */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    return applyChatTemplate(this.tokenizerConfig, messages, options);
  }
}

const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

/** A growable byte buffer that token spellings are decoded into. */
class ByteSink {
  private buf = new Uint8Array(1 << 16);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  utf8(text: string): void {
    this.reserve(text.length * 3);
    this.length += utf8.encodeInto(text, this.buf.subarray(this.length)).written;
  }

  byteLevel(text: string): void {
    this.reserve(text.length * 3);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const b = c < BYTE_OF_CHAR.length ? BYTE_OF_CHAR[c] : -1;
      if (b >= 0) {
        this.buf[this.length++] = b;
      } else {
        // Not a byte symbol (hand-edited vocabularies): keep the character's own UTF-8.
        const cp = text.codePointAt(i)!;
        const ch = String.fromCodePoint(cp);
        i += ch.length - 1;
        this.length += utf8.encodeInto(ch, this.buf.subarray(this.length)).written;
      }
    }
  }

  metaspace(text: string, replacement: string, byteFallback: boolean): void {
    const byte = byteFallback && text.length === 6 ? BYTE_TOKEN.exec(text) : null;
    if (byte !== null) {
      this.reserve(1);
      this.buf[this.length++] = parseInt(byte[1], 16);
    } else {
      this.utf8(replacement === '' ? text : text.replaceAll(replacement, ' '));
    }
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

async function readJsonFile(file: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readTextFile(file, 'read the file');
  } catch (err) {
    if (!required && (err as FileReadError).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TokenizerError(file, `is not valid JSON (${(err as Error).message})`);
  }
}
