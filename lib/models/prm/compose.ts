/**
 * Incremental tokenization that composes: after appending text to a node, its tokens equal what the
 * tokenizer gives for the node's whole text, so the PRM sees exactly what a from-scratch encode would
 * feed it. Tokenizers are not concatenative at text boundaries (" 1" + "2" is " 12", one token; a run
 * of spaces before a word splits differently once the word arrives), so appending the encoding of the
 * new text alone can be wrong.
 *
 * Boundary handling: re-encode a window that starts a few words before the end of the old text, find
 * where the new tokens diverge from the cached ones, and report how many cached tokens stay (`keep`)
 * and which tokens follow. The caller truncates the PRM sequence to `keep` and appends the rest; the
 * KV of the kept tokens is reused.
 *
 * Why a window is enough: in the byte-level BPE family (GPT-2, Llama 3, Qwen2 split patterns) appending
 * text can only change the last pre-token of the old text, and no pre-token spans a
 * non-space → space → non-space sequence; added (special) tokens are cut out before that and are at
 * most `minWindowChars` long. So a cut with several whitespace-separated words after it is untouched
 * by the new text. The cut must also be a token boundary that encoding from the cut reproduces: that
 * is checked against the cached tokens, and a cut that fails (a SentencePiece normalizer that prepends
 * "▁", a pattern that glues punctuation to newlines) is replaced by one further back, ending with a
 * full re-encode. The fallback costs time, never correctness.
 */

/** The tokenizer, as a function: ids of `text`, with the post-processor (e.g. BOS) when asked. */
export type Encode = (text: string, addSpecialTokens: boolean) => Int32Array;

export interface Tokenized {
  readonly text: string;
  /** encode(text): what a from-scratch encode of the whole text gives. */
  readonly tokens: Int32Array;
}

export interface Extension extends Tokenized {
  /** Cached tokens [0, keep) stay; the ones after are dropped. */
  keep: number;
  /** Tokens to append after truncating to `keep` (tokens.subarray(keep)). */
  append: Int32Array;
}

export interface ComposerOptions {
  /** Whether a from-scratch encode applies the post-processor. */
  addSpecialTokens: boolean;
  /** Old text kept in the window at least: no shorter than the longest added token. */
  minWindowChars: number;
}

/** Whitespace-separated words the window must hold after the cut (see the file comment). */
const WORDS_AFTER_CUT = 3;
/** Cuts tried before encoding the whole text. */
const MAX_CUTS = 4;

const SPACE = /\s/u;
const isSpace = (c: string) => SPACE.test(c);

/**
 * Cut positions in `text`, nearest first: positions c where a word ends (text[c-1] is not whitespace,
 * text[c] is), with at least `words` words and `minChars` characters in text[c..]. Then 0.
 */
function* cuts(text: string, words: number, minChars: number): Generator<number> {
  let seen = 0;
  for (let i = text.length - 1; i > 0; i--) {
    const space = isSpace(text[i]);
    // Scanning right to left, i is the last character of a word when the next character is whitespace.
    if (!space && (i === text.length - 1 || isSpace(text[i + 1]))) seen++;
    if (space && !isSpace(text[i - 1]) && seen >= words && text.length - i >= minChars) yield i;
  }
  yield 0;
}

function commonPrefix(a: Int32Array, b: Int32Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Whether a[offset..] equals b exactly. */
function endsWith(a: Int32Array, offset: number, b: Int32Array): boolean {
  if (offset < 0 || a.length - offset !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[offset + i] !== b[i]) return false;
  return true;
}

function concat(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export class TokenComposer {
  constructor(
    private readonly encode: Encode,
    private readonly options: ComposerOptions,
  ) {}

  /** encode(text) from scratch. */
  full(text: string): Tokenized {
    return { text, tokens: this.encode(text, this.options.addSpecialTokens) };
  }

  /** The tokens of state.text + more, as a change to the cached tokens. */
  extend(state: Tokenized, more: string): Extension {
    const old = state.tokens;
    const text = state.text + more;
    let tried = 0;
    for (const c of cuts(state.text, WORDS_AFTER_CUT, this.options.minWindowChars)) {
      if (c === 0 || tried === MAX_CUTS) break;
      tried++;
      const window = state.text.slice(c);
      const before = this.encode(window, false);
      const start = old.length - before.length;
      // The cut is a token boundary only if encoding from it reproduces the cached tail exactly.
      if (start <= 0 || !endsWith(old, start, before)) continue;
      const after = this.encode(window + more, false);
      const same = commonPrefix(before, after);
      return { text, tokens: concat(old.subarray(0, start), after), keep: start + same, append: after.slice(same) };
    }
    const tokens = this.encode(text, this.options.addSpecialTokens);
    const keep = commonPrefix(old, tokens);
    return { text, tokens, keep, append: tokens.slice(keep) };
  }
}
