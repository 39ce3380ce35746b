/**
 * Answer shapes that need more than string normalisation and less than algebra: multiple-choice letters,
 * words, trailing units, and lists (tuples, intervals, sets, unions) compared element by element.
 */

/** `\text{...}`-like wrappers whose contents are plain text. */
const TEXT_WRAPPER = /\\(?:text|textbf|textit|textrm|mathrm|mathbf|mbox)\s*\{([^{}]*)\}/g;

/** The contents of `\text{...}`-like wrappers, unwrapped. */
export function unwrapText(s: string): string {
  return s.replace(TEXT_WRAPPER, '$1');
}

/** `B`, `(B)`, `\text{(B)}`, `\textbf{(B)}`, `B)` → `B`; anything else → null. Capitals A–H only. */
export function choiceLetter(s: string): string | null {
  const m = /^\(?([A-H])\)?\.?$/.exec(unwrapText(s).replace(/\s+/g, ''));
  return m === null ? null : m[1]!;
}

/** Whether an answer has a word in it (two or more letters in a row outside LaTeX commands). */
export function hasWord(s: string): boolean {
  return /[a-zA-Z]{2,}/.test(unwrapText(s).replace(/\\[a-zA-Z]+/g, ' '));
}

/** Lower case, single spaces, no trailing full stop: for answers that are words. */
export function plainText(s: string): string {
  return unwrapText(s).toLowerCase().replace(/\s+/g, ' ').replace(/\.$/, '').trim();
}

/** A number-like head (digits, fractions, roots, π) that units may follow. */
const NUMBERISH = /^[-+]?(?:[\d.,{}]|\\frac|\\sqrt|\\pi|\^)+$/;

/**
 * Drops units after a number: `5\text{cm}`, `5 \mbox{ cm}^2`, `3.5 meters`, `12 \text{square units}`.
 * Leaves everything else as it is (a lone letter after a number is a variable: `2x`).
 */
export function dropUnits(s: string): string {
  const t = s.trim();
  const wrapped = /^(.*?)\s*\\(?:text|mbox|mathrm)\s*\{\s*[a-zA-Z][a-zA-Z .]*\}(?:\^\{?\d\}?)?$/.exec(t);
  if (wrapped !== null && NUMBERISH.test(wrapped[1]!.replace(/\s+/g, ''))) return wrapped[1]!.trim();
  const bare = /^(.*?)\s+[a-zA-Z]{2,}(?:\s+[a-zA-Z]{2,})*(?:\^\{?\d\}?)?\.?$/.exec(t);
  if (bare !== null && NUMBERISH.test(bare[1]!.replace(/\s+/g, ''))) return bare[1]!.trim();
  return s;
}

/** A list-shaped answer: `(1,2)`, `[0,1)`, `1, 2`, `\{1,2\}`, or a union `A \cup B`. */
export interface Structure {
  /** The opening and closing delimiters (`(` `]`, `\{` `\}`, `` for a bare list, `\cup` for a union). */
  readonly open: string;
  readonly close: string;
  readonly items: readonly string[];
  /** Sets and unions compare as multisets; tuples, intervals and bare lists in order. */
  readonly unordered: boolean;
}

/** Splits at top-level occurrences of `sep` (outside (), [], {}). */
function splitTop(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) {
      depth += s[i + 1] === '{' ? 1 : -1;
      i++;
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0 && s.startsWith(sep, i)) {
      parts.push(s.slice(from, i));
      from = i + sep.length;
      i += sep.length - 1;
    }
  }
  parts.push(s.slice(from));
  return parts;
}

/** Whether the bracket opening at 0 closes at the last character (so `(1)+(2)` is not one group). */
function wrapsWhole(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    if (depth === 0 && i < s.length - 1) return false;
  }
  return depth === 0;
}

/** The list structure of an answer, or null when it is a single item. */
export function structureOf(input: string): Structure | null {
  const s = input.trim();
  const union = splitTop(s, '\\cup');
  if (union.length > 1) return { open: '\\cup', close: '', items: union.map((x) => x.trim()), unordered: true };
  if (s.startsWith('\\{') && s.endsWith('\\}')) {
    return { open: '\\{', close: '\\}', items: splitTop(s.slice(2, -2), ',').map((x) => x.trim()), unordered: true };
  }
  if (/^[([]/.test(s) && /[)\]]$/.test(s) && wrapsWhole(s)) {
    const items = splitTop(s.slice(1, -1), ',').map((x) => x.trim());
    if (items.length > 1) return { open: s[0]!, close: s[s.length - 1]!, items, unordered: false };
    return null;
  }
  const bare = splitTop(s, ',');
  return bare.length > 1 ? { open: '', close: '', items: bare.map((x) => x.trim()), unordered: false } : null;
}

/** Element-wise comparison of two structures with `equal` on the items (multiset matching when unordered). */
export function structuresEqual(a: Structure, b: Structure, equal: (x: string, y: string) => boolean): boolean {
  if (a.open !== b.open || a.close !== b.close || a.unordered !== b.unordered) return false;
  if (a.items.length !== b.items.length || a.items.length > 32) return false;
  if (!a.unordered) return a.items.every((x, i) => equal(x, b.items[i]!));
  const used = new Array<boolean>(b.items.length).fill(false);
  return a.items.every((x) => {
    const j = b.items.findIndex((y, k) => !used[k] && equal(x, y));
    if (j < 0) return false;
    used[j] = true;
    return true;
  });
}
