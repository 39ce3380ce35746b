import { describe, expect, it } from 'vitest';
import { TokenizerError } from '../../lib/models/errors.js';
import { TextTokenizer } from '../../lib/models/tokenizer.js';
import {
  byteLevel,
  byteLevelTokenizerConfig,
  byteLevelTokenizerJson,
  metaspaceTokenizerJson,
} from '../helpers/hf-files.js';

const json = byteLevelTokenizerJson();
const tok = TextTokenizer.fromJson(json, byteLevelTokenizerConfig());
const vocabOf = (j: Record<string, unknown>) => (j.model as { vocab: Record<string, number> }).vocab;
const addedId = (j: Record<string, unknown>, content: string) =>
  (j.added_tokens as Array<{ id: number; content: string }>).find((t) => t.content === content)!.id;

/** Concatenated tokenBytes of `ids`. */
function bytesOfIds(t: TextTokenizer, ids: ArrayLike<number>): Uint8Array {
  const { bytes, offsets } = t.tokenBytes();
  return Uint8Array.from(Array.from(ids).flatMap((id) => Array.from(bytes.subarray(offsets[id], offsets[id + 1]))));
}

const TEXT = 'hello the world, in café 😀😀!\n\tnaïve — 漢字';

describe('byte-level BPE tokenizer', () => {
  it('is detected as byte-level', () => {
    expect(tok.style).toBe('byte-level');
  });

  it('round-trips UTF-8 text with emoji through encode and decode', () => {
    expect(tok.decode(tok.encode(TEXT))).toBe(TEXT);
  });

  it('encodes a merged word as its merge token', () => {
    expect(Array.from(tok.encode(' the'))).toEqual([vocabOf(json)[byteLevel(' the')]]);
  });

  it('gives token bytes whose concatenation over encode(text) is the UTF-8 of the text', () => {
    expect(bytesOfIds(tok, tok.encode(TEXT))).toEqual(new Uint8Array(Buffer.from(TEXT, 'utf8')));
  });

  it('gives every byte symbol id exactly its byte', () => {
    const { bytes, offsets } = tok.tokenBytes();
    for (let b = 0; b < 256; b++) {
      expect(offsets[b + 1] - offsets[b]).toBe(1);
      expect(bytes[offsets[b]]).toBe(b);
    }
  });

  it('gives special tokens their content as bytes', () => {
    const id = addedId(json, '<|im_end|>');
    expect(Buffer.from(bytesOfIds(tok, [id])).toString('utf8')).toBe('<|im_end|>');
  });

  it('counts every id, added tokens included, in vocabSize and tokenOffsets', () => {
    const ids = [...Object.values(vocabOf(json)), ...(json.added_tokens as Array<{ id: number }>).map((t) => t.id)];
    expect(tok.vocabSize).toBe(Math.max(...ids) + 1);
    expect(tok.tokenBytes().offsets.length).toBe(tok.vocabSize + 1);
  });

  it('looks up special tokens exactly and returns undefined for unknown text', () => {
    expect(tok.tokenId('<|endoftext|>')).toBe(addedId(json, '<|endoftext|>'));
    expect(tok.tokenId(byteLevel(' the'))).toBe(vocabOf(json)[byteLevel(' the')]);
    expect(tok.tokenId('<|nope|>')).toBeUndefined();
  });

  it('encodes a special token in text as its single id', () => {
    const ids = Array.from(tok.encode('hi<|im_end|>'));
    expect(ids.at(-1)).toBe(addedId(json, '<|im_end|>'));
  });

  it('drops special tokens when decoding with skipSpecialTokens', () => {
    const ids = tok.encode('in<|im_end|>');
    expect(tok.decode(ids)).toBe('in<|im_end|>');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('in');
  });

  it("falls back to tokenizer_config.json's eos_token when no eos ids are given", () => {
    expect(tok.eosTokenIds).toEqual([addedId(json, '<|im_end|>')]);
  });

  it('uses the eos ids it is given over tokenizer_config.json', () => {
    const t = TextTokenizer.fromJson(json, byteLevelTokenizerConfig(), { eosTokenIds: [3, 4] });
    expect(t.eosTokenIds).toEqual([3, 4]);
  });

  it('rejects a tokenizer with more ids than the embedding has rows', () => {
    let err: unknown;
    try {
      TextTokenizer.fromJson(json, {}, { embeddingRows: 200 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TokenizerError);
    expect((err as Error).message).toBe(
      `tokenizer.json: has ${tok.vocabSize} token ids but the model's embedding has only 200 rows (config.json vocab_size 200)`,
    );
  });

  it('accepts a tokenizer with fewer ids than the embedding has rows', () => {
    expect(TextTokenizer.fromJson(json, {}, { embeddingRows: 4096 }).vocabSize).toBe(tok.vocabSize);
  });

  it('rejects decoding an id outside the vocabulary', () => {
    expect(() => tok.decode([tok.vocabSize])).toThrow(`token id at index 0 is ${tok.vocabSize}, outside the vocabulary`);
  });
});

describe('SentencePiece-style tokenizer with byte fallback', () => {
  const mjson = metaspaceTokenizerJson();
  const mtok = TextTokenizer.fromJson(mjson, {});
  const mvocab = vocabOf(mjson);

  it('is detected as metaspace', () => {
    expect(mtok.style).toBe('metaspace');
  });

  it('prepends <s> when adding special tokens', () => {
    expect(mtok.encode('the', { addSpecialTokens: true })[0]).toBe(1);
    expect(mtok.encode('the', { addSpecialTokens: false })[0]).toBe(mvocab['\u2581the']);
  });

  it('round-trips text whose characters fall back to bytes', () => {
    const text = 'the a hat é😀';
    expect(mtok.decode(mtok.encode(text, { addSpecialTokens: false }))).toBe(text);
  });

  it('maps ▁ to a space and <0xNN> to the byte NN in token bytes', () => {
    expect(Buffer.from(bytesOfIds(mtok, [mvocab['\u2581the']])).toString('utf8')).toBe(' the');
    expect(Array.from(bytesOfIds(mtok, [mvocab['<0xC3>']]))).toEqual([0xc3]);
  });

  it('gives token bytes whose concatenation is the UTF-8 of the space-prefixed text', () => {
    const text = 'the a hat é😀';
    const ids = mtok.encode(text, { addSpecialTokens: false });
    expect(bytesOfIds(mtok, ids)).toEqual(new Uint8Array(Buffer.from(' ' + text, 'utf8')));
  });
});
