// Incremental PRM tokenization: after any sequence of appends, a node's tokens equal a from-scratch
// encode of its whole text, with the boundary re-encoded (and cached tokens rolled back) where the
// tokenizer is not concatenative. Pure tokenizer tests: no native code.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { TokenComposer, type Encode, type Tokenized } from '../../lib/models/prm/compose.js';
import type { PrmFormatName } from '../../lib/models/prm/format.js';
import { preparePrm, type PreparedPrm } from '../../lib/models/prm/prepare-prm.js';
import { TextTokenizer } from '../../lib/models/tokenizer.js';
import { metaspaceTokenizerJson } from '../helpers/hf-files.js';
import { fixtureDir, type PrmFixture } from './prm-fixtures.js';

const runtime = { precision: 'f32' as const, threads: 1, kvCacheBytes: 1 << 20 };

function composerFor(tokenizer: TextTokenizer, addSpecialTokens: boolean, counter?: { chars: number }): TokenComposer {
  const encode: Encode = (text, special) => {
    if (counter) counter.chars += text.length;
    return tokenizer.encode(text, { addSpecialTokens: special });
  };
  return new TokenComposer(encode, { addSpecialTokens, minWindowChars: 16 });
}

const ids = (a: Int32Array) => Array.from(a);

let byteLevel: TextTokenizer;
let withSeparator: TextTokenizer;
beforeAll(async () => {
  byteLevel = await TextTokenizer.fromDirectory(fixtureDir('math-shepherd'));
  withSeparator = await TextTokenizer.fromDirectory(fixtureDir('qwen2-prm'));
});

describe('TokenComposer at one boundary', () => {
  it('re-encodes a number that the new text continues, rolling back only its last token', () => {
    const c = composerFor(byteLevel, false);
    const state = c.full('Step 1: Tom has 3 apples, x = 1');
    const ext = c.extend(state, '2 apples.');
    expect(ids(ext.tokens)).toEqual(ids(byteLevel.encode(`${state.text}2 apples.`, { addSpecialTokens: false })));
    expect(ext.keep).toBe(state.tokens.length - 1);
    expect(ids(ext.tokens.subarray(0, ext.keep))).toEqual(ids(state.tokens.subarray(0, ext.keep)));
    expect(ids(ext.append)).toEqual(ids(ext.tokens.subarray(ext.keep)));
  });

  it('re-encodes a word that the new text continues', () => {
    const c = composerFor(byteLevel, false);
    const state = c.full('Question: what is the answ');
    const ext = c.extend(state, 'er to it?');
    expect(ids(ext.tokens)).toEqual(ids(byteLevel.encode('Question: what is the answer to it?', { addSpecialTokens: false })));
    expect(ext.keep).toBeLessThan(state.tokens.length);
  });

  it('keeps every cached token when the boundary does not move', () => {
    const c = composerFor(withSeparator, false);
    const state = c.full('<|im_start|>assistant\nStep 1: 3 apples.<extra_0>');
    const ext = c.extend(state, 'Step 2: 8.<extra_0>');
    expect(ext.keep).toBe(state.tokens.length);
    expect(ids(ext.tokens)).toEqual(ids(withSeparator.encode(ext.text, { addSpecialTokens: false })));
  });

  it('re-encodes a window near the end, not the whole text', () => {
    const counter = { chars: 0 };
    const c = composerFor(byteLevel, false, counter);
    const state = c.full('Step 1: Tom has 3 apples and buys 5 more. '.repeat(60));
    counter.chars = 0;
    const ext = c.extend(state, 'Step 2: so 3 + 5 = 8.');
    expect(ids(ext.tokens)).toEqual(ids(byteLevel.encode(ext.text, { addSpecialTokens: false })));
    expect(counter.chars).toBeLessThan(state.text.length / 10);
  });

  it('falls back to a full encode for a tokenizer whose windows differ (SentencePiece prepends "▁", adds BOS)', () => {
    const sp = TextTokenizer.fromJson(metaspaceTokenizerJson(), {});
    const c = composerFor(sp, true);
    const state = c.full('the cat ate the hat');
    const ext = c.extend(state, ' and then the tea');
    expect(ids(ext.tokens)).toEqual(ids(sp.encode('the cat ate the hat and then the tea', { addSpecialTokens: true })));
    expect(ext.tokens[0]).toBe(1);
  });
});

// Pieces that move token boundaries: runs of spaces and newlines, digits after digits, words split
// mid-word, special tokens, multi-byte characters, a combining accent.
const PIECES = [' ', '  ', '\n', '\n\n', '\t', '1', ' 1', '2', '12', '3.5', 'Step', ' answ', 'answ', 'er', ' Questi', 'on', ' the',
  ' ки', 'ки', '+', '-', '=', '.', '<extra_0>', '<|im_end|>', '<|im_start|>', '😀', 'π', 'é', 'e\u0301', 'Größe', '数学'];
const textArb = fc.array(fc.constantFrom(...PIECES), { minLength: 0, maxLength: 12 }).map((p) => p.join(''));

describe('TokenComposer over many appends (property)', () => {
  const cases: Array<[string, () => TextTokenizer, boolean]> = [
    ['byte-level BPE', () => byteLevel, false],
    ['byte-level BPE with a special separator', () => withSeparator, false],
    ['SentencePiece with BOS', () => TextTokenizer.fromJson(metaspaceTokenizerJson(), {}), true],
  ];
  it.each(cases)('%s: tokens always equal a from-scratch encode of the text', (_, tok, special) => {
    const tokenizer = tok();
    const c = composerFor(tokenizer, special);
    let rollbacks = 0;
    fc.assert(
      // A fixed opening gives the windows room; the random start makes the old text end anywhere.
      fc.property(textArb, fc.array(textArb, { minLength: 1, maxLength: 6 }), (start, appends) => {
        let state: Tokenized = c.full(`Question: Tom has 3 apples and the cat ate 2. ${start}`);
        for (const more of appends) {
          const ext = c.extend(state, more);
          expect(ids(ext.tokens.subarray(0, ext.keep))).toEqual(ids(state.tokens.subarray(0, ext.keep)));
          if (ext.keep < state.tokens.length) rollbacks++;
          state = ext;
          expect(ids(state.tokens)).toEqual(ids(tokenizer.encode(state.text, { addSpecialTokens: special })));
        }
      }),
      { numRuns: 300, seed: 20251125 },
    );
    // The runs must have crossed boundaries that moved, or they prove little.
    expect(rollbacks).toBeGreaterThan(0);
  });
});

// Adversarial steps for the layouts: leading spaces and newlines, digits continuing digits across
// steps, blank steps, steps without a trailing separator.
const STEPS = ['\nStep 1: 12', '34 = 1234\n\n', '  spaced start\n\n', '\n\n\nnewlines first', '5', '6 digits on\n\n', ' ', '\t tab and π 😀\n\n', 'e\u0301 accent'];

describe('incremental layouts equal from-scratch encodes', () => {
  const formats: Array<[PrmFixture, PrmFormatName]> = [
    ['qwen2-prm', 'qwen2.5-math-prm'],
    ['math-shepherd', 'math-shepherd'],
    ['math-shepherd', 'rlhflow'],
    ['value-head', 'value-head'],
  ];
  const bound = new Map<string, PreparedPrm>();
  beforeAll(async () => {
    for (const [fixture, format] of formats) bound.set(format, await preparePrm(fixtureDir(fixture), { ...runtime, format }));
  });

  it.each(formats)('%s / %s: every step ends on its read token and the node tokens equal encode(text)', (_, name) => {
    const { format, prepared, minWindowChars } = bound.get(name)!;
    const { tokenizer } = prepared;
    const special = format.layout.addSpecialTokens;
    const c = new TokenComposer((t, s) => tokenizer.encode(t, { addSpecialTokens: s }), { addSpecialTokens: special, minWindowChars });
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...STEPS), { minLength: 1, maxLength: 6 }), fc.constantFrom('What is 12 + 7?', '  Q\n', '数学 1'), (steps, q) => {
        let state: Tokenized = c.full(format.layout.prefix(q));
        let tail = '';
        steps.forEach((s, i) => {
          const st = format.layout.step(s, i);
          state = c.extend(state, tail + st.text);
          tail = st.tail;
          expect(ids(state.tokens)).toEqual(ids(tokenizer.encode(state.text, { addSpecialTokens: special })));
          if (format.readToken !== undefined) expect(state.tokens[state.tokens.length - 1]).toBe(format.readToken);
        });
      }),
      { numRuns: 60, seed: 7 },
    );
  });
});
