/** Looking up the single tokens a PRM format reads (step tags, good/bad answer tokens). */
import path from 'node:path';
import { TokenizerError } from '../errors.js';
import type { TextTokenizer } from '../tokenizer.js';

const isBlank = (s: string) => s.trim() === '';

/**
 * The id of the one token `text` stands for, as it appears in running text: the text is encoded and a
 * leading whitespace-only token is dropped (SentencePiece vocabularies may encode "+" as "▁" "+"). A
 * number is taken as an id. Anything else that is not exactly one token is an error naming tokenizer.json.
 */
export function singleToken(tokenizer: TextTokenizer, dir: string, what: string, text: string | number): number {
  const file = path.join(dir, 'tokenizer.json');
  if (typeof text === 'number') {
    if (!Number.isInteger(text) || text < 0 || text >= tokenizer.vocabSize) {
      throw new TokenizerError(file, `${what} id ${text} is outside the vocabulary [0, ${tokenizer.vocabSize})`);
    }
    return text;
  }
  let ids = Array.from(tokenizer.encode(text, { addSpecialTokens: false }));
  if (ids.length > 1 && !isBlank(text) && isBlank(tokenizer.decode([ids[0]]))) ids = ids.slice(1);
  if (ids.length !== 1) {
    throw new TokenizerError(
      file,
      `has no single token for ${what} ${JSON.stringify(text)}: it encodes to ${ids.length} tokens [${ids.join(', ')}]; ` +
        `pass a ${what} that is one token, or its id`,
    );
  }
  return ids[0];
}

/** The id of an added token given by its exact content (e.g. `<extra_0>`), or an error naming tokenizer.json. */
export function addedToken(tokenizer: TextTokenizer, dir: string, content: string, why: string): number {
  const id = tokenizer.tokenId(content);
  if (id === undefined) {
    throw new TokenizerError(path.join(dir, 'tokenizer.json'), `has no ${JSON.stringify(content)} token, ${why}`);
  }
  return id;
}
