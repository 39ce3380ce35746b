import { describe, expect, it } from 'vitest';
import { TokenizerError } from '../../lib/models/errors.js';
import { SUPPORTED_TOKENIZER_MODELS, TextTokenizer } from '../../lib/models/tokenizer.js';
import { byteLevelTokenizerConfig, byteLevelTokenizerJson } from '../helpers/hf-files.js';

function withModelType(type: unknown): Record<string, unknown> {
  const json = byteLevelTokenizerJson();
  return { ...json, model: { ...(json.model as Record<string, unknown>), type } };
}

describe('tokenizer.json model.type', () => {
  it('refuses an unknown model type, naming the file and the type', () => {
    const load = () => TextTokenizer.fromJson(withModelType('SentencePieceBPE'), byteLevelTokenizerConfig(), { file: '/m/tokenizer.json' });
    expect(load).toThrow(TokenizerError);
    expect(load).toThrow(/\/m\/tokenizer\.json: .*"model\.type" is "SentencePieceBPE"; .*BPE, WordPiece, Unigram, WordLevel/);
  });

  it('refuses a model type that is not a string', () => {
    expect(() => TextTokenizer.fromJson(withModelType(7), byteLevelTokenizerConfig())).toThrow(/"model\.type" is 7/);
  });

  it('refuses a lower-case spelling of a supported type', () => {
    expect(() => TextTokenizer.fromJson(withModelType('bpe'), byteLevelTokenizerConfig())).toThrow(TokenizerError);
  });

  it('accepts BPE', () => {
    expect(TextTokenizer.fromJson(withModelType('BPE'), byteLevelTokenizerConfig()).vocabSize).toBeGreaterThan(0);
  });

  it('lists the four models of @huggingface/tokenizers', () => {
    expect([...SUPPORTED_TOKENIZER_MODELS]).toEqual(['BPE', 'WordPiece', 'Unigram', 'WordLevel']);
  });
});
