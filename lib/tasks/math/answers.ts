/**
 * Final-answer extraction and equivalence for math tasks.
 *
 * Equivalence follows the MATH benchmark grader (Hendrycks et al. 2021, `is_equiv` / `_strip_string`):
 * both answers are normalised by string rewriting and then compared as strings. That grader does NOT do
 * numeric equivalence: `0.5` equals `\frac{1}{2}` only because it rewrites the exact string `0.5` (also
 * `.5`, which becomes `0.5` first), so `0.25` and `\frac{1}{4}` stay different, and `\text{ cm}` units are
 * dropped only when written with the space after the brace. When the normalisation itself fails (the
 * grader's asserts and index errors), the raw strings are compared, as the grader does.
 *
 * One addition, kept narrow on purpose: two answers that are both plain decimal numbers after
 * normalisation compare by value (`236` = `236.0` = `236.00`, `1,000` = `1000`, `-0` = `0`), exactly, on
 * their decimal digits rather than through floating point. `\frac{1}{2}` counts as the decimal `0.5` here,
 * which keeps the relation transitive with the grader's own `0.5` rule (`0.50` = `0.5` = `\frac12`).
 *
 * The string rules are the fast path. Answers they find different go on to choice letters, units and
 * words (forms.ts), symbolic and numeric equivalence under a time limit (symbolic.ts), and lists compared
 * element by element: see `answersEqual`.
 */

import { choiceLetter, dropUnits, hasWord, plainText, structureOf, structuresEqual } from './forms.js';
import { symbolicEqual } from './symbolic.js';

/** The normalisation failed; the grader then falls back to comparing the raw strings. */
class StripFailure extends Error {}

/** `\frac12` → `\frac{1}{2}`, `\frac1{72}` → `\frac{1}{72}` (but `\frac{72}1` is left alone, as in MATH). */
function fixFracs(s: string): string {
  const parts = s.split('\\frac');
  let out = parts[0]!;
  for (const part of parts.slice(1)) {
    out += '\\frac';
    // The grader indexes part[0] first, so an empty piece raises before anything else is looked at.
    if (part.length === 0) throw new StripFailure('\\frac without arguments');
    if (part.startsWith('{')) {
      out += part;
      continue;
    }
    // The grader returns the whole string unchanged when a bare \frac has fewer than two characters after it.
    if (part.length < 2) return s;
    const a = part[0]!;
    const b = part[1]!;
    out += b !== '{' ? `{${a}}{${b}}${part.slice(2)}` : `{${a}}${b}${part.slice(2)}`;
  }
  return out;
}

/** `3/4` → `\frac{3}{4}` when the whole answer is one integer over another, written canonically. */
function fixSlash(s: string): string {
  const parts = s.split('/');
  if (parts.length !== 2) return s;
  const [a, b] = parts as [string, string];
  // Python's int() accepts an optional sign and surrounding whitespace; the round-trip check then only
  // lets canonical spellings through ("03/4" stays as it is).
  const intRe = /^\s*[+-]?\d+\s*$/;
  if (!intRe.test(a) || !intRe.test(b)) return s;
  const ia = BigInt(a.trim());
  const ib = BigInt(b.trim());
  if (s !== `${ia}/${ib}`) return s;
  return `\\frac{${ia}}{${ib}}`;
}

/** Drops units written as `\text{ ...}` at the right (the only spelling the MATH grader removes). */
function removeRightUnits(s: string): string {
  if (!s.includes('\\text{ ')) return s;
  const splits = s.split('\\text{ ');
  if (splits.length !== 2) throw new StripFailure('more than one \\text{ unit');
  return splits[0]!;
}

/** `\sqrt3` → `\sqrt{3}`. */
function fixSqrt(s: string): string {
  if (!s.includes('\\sqrt')) return s;
  const splits = s.split('\\sqrt');
  let out = splits[0]!;
  for (const split of splits.slice(1)) {
    if (split.length === 0) throw new StripFailure('\\sqrt without an argument');
    out += split[0] !== '{' ? `\\sqrt{${split[0]}}${split.slice(1)}` : `\\sqrt${split}`;
  }
  return out;
}

/**
 * The MATH grader's string normalisation, step for step. Throws StripFailure where the grader would
 * raise; `answersEqual` then compares the raw strings.
 */
function stripOrThrow(input: string, keepSpaces = false): string {
  let s = input.replace(/\n/g, '');
  s = s.replaceAll('\\!', '');
  s = s.replaceAll('\\\\', '\\');
  s = s.replaceAll('tfrac', 'frac').replaceAll('dfrac', 'frac');
  s = s.replaceAll('\\left', '').replaceAll('\\right', '');
  s = s.replaceAll('^{\\circ}', '').replaceAll('^\\circ', '');
  s = s.replaceAll('\\$', '');
  s = removeRightUnits(s);
  s = s.replaceAll('\\%', '').replaceAll('%', '');
  // " .5" and "{.5" gain their leading zero, as does a string that starts with "."
  s = s.replaceAll(' .', ' 0.').replaceAll('{.', '{0.');
  if (s.length === 0) return s;
  if (s.startsWith('.')) s = `0${s}`;
  // "k = 5" → "5" when the left side is at most two characters (spaces included, as in the grader).
  const eq = s.split('=');
  if (eq.length === 2 && eq[0]!.length <= 2) s = eq[1]!;
  s = fixSqrt(s);
  if (!keepSpaces) s = s.replaceAll(' ', '');
  s = fixFracs(s);
  if (s === '0.5') s = '\\frac{1}{2}';
  s = fixSlash(s);
  return s;
}

/** The MATH grader's normalised form of an answer, or the answer itself where the grader gives up. */
export function normalizeMathAnswer(answer: string): string {
  try {
    return stripOrThrow(answer);
  } catch (err) {
    if (err instanceof StripFailure) return answer;
    throw err;
  }
}

/** Canonical decimal digits of a plain number (`-012.500` → `-12.5`), or null when it is not one. */
function canonicalDecimal(s: string): string | null {
  const plain = s === '\\frac{1}{2}' ? '0.5' : s;
  // Thousands separators only in their proper places ("1,000,000"; "{,}" as LaTeX writes them).
  const unsep = /^-?\d{1,3}((,|\{,\})\d{3})+(\.\d+)?$/.test(plain) ? plain.replace(/\{,\}|,/g, '') : plain;
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(unsep);
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const int = m[2]!.replace(/^0+/, '') || '0';
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const body = frac === '' ? int : `${int}.${frac}`;
  return body === '0' ? '0' : `${m[1]}${body}`;
}

/** How deep list answers nest before the element-wise comparison stops (`((1,2),(3,4))` is depth 2). */
const MAX_DEPTH = 3;

/**
 * Whether two final answers are the same answer. A missing answer equals nothing. In order:
 * 1. the MATH grader's string normalisation, then plain decimals by value (the fast path; see the file comment);
 * 2. multiple-choice letters: `\text{(B)}` = `(B)` = `B`;
 * 3. units after a number are dropped (`5\text{cm}` = `3.5 meters`-style), and answers that are words
 *    compare as lower-case text (`\text{Monday}` = `monday`);
 * 4. symbolic equivalence with @cortex-js/compute-engine (`0.25` = `\frac14`, `3^{2}` = `9`,
 *    `\frac{\sqrt2}{2}` = `\sqrt{2}/2`), else numerically with relative tolerance 1e-9, within 200 ms per
 *    comparison (see symbolic.ts for the limits);
 * 5. where the engine gives up (intervals, unparsable items), lists compare element by element: tuples,
 *    intervals and bare lists in order (`(1,2)` ≠ `(2,1)`, `[0,1)` ≠ `[0,1]`), sets and `\cup` unions as
 *    multisets.
 * A normalisation failure of the MATH grader leaves only the comparison of the raw strings, as in the grader.
 */
export function answersEqual(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return false;
  return equalAt(a, b, 0);
}

function equalAt(a: string, b: string, depth: number): boolean {
  let na: string;
  let nb: string;
  try {
    na = stripOrThrow(a);
    nb = stripOrThrow(b);
  } catch (err) {
    if (err instanceof StripFailure) return a === b;
    throw err;
  }
  if (na === nb) return true;
  const da = canonicalDecimal(na);
  if (da !== null && da === canonicalDecimal(nb)) return true;
  return beyondStrings(a, b, depth);
}

/** Steps 2–5 of `answersEqual` on two raw answers that the string rules found different. */
function beyondStrings(a: string, b: string, depth: number): boolean {
  const ca = choiceLetter(a);
  const cb = choiceLetter(b);
  if (ca !== null && cb !== null) return ca === cb;
  const ua = dropUnits(a);
  const ub = dropUnits(b);
  if (ua !== a || ub !== b) return equalAt(ua, ub, depth);
  if (hasWord(a) || hasWord(b)) return plainText(a) === plainText(b);
  let ea: string;
  let eb: string;
  try {
    ea = stripOrThrow(a, true);
    eb = stripOrThrow(b, true);
  } catch {
    return false;
  }
  const verdict = symbolicEqual(ea, eb);
  if (verdict !== undefined) return verdict;
  if (depth >= MAX_DEPTH) return false;
  const sa = structureOf(ea);
  const sb = structureOf(eb);
  return sa !== null && sb !== null && structuresEqual(sa, sb, (x, y) => equalAt(x, y, depth + 1));
}

/**
 * A grouping key for votes: answers with equal keys are equal under `answersEqual` (the string rules'
 * normal form); answers with different keys may still be equal, which `answersEqual` then decides.
 */
export function mathAnswerKey(answer: string): string {
  try {
    const n = stripOrThrow(answer);
    return canonicalDecimal(n) ?? n;
  } catch (err) {
    if (err instanceof StripFailure) return `\u0000${answer}`;
    throw err;
  }
}

/** The contents of the last balanced `\boxed{...}` (or `\fbox{...}`, or `\boxed 5`), nested braces kept. */
function lastBoxed(text: string): string | null {
  const re = /\\(?:boxed|fbox)/g;
  const starts: number[] = [];
  for (let m = re.exec(text); m !== null; m = re.exec(text)) starts.push(m.index + m[0].length);
  for (let k = starts.length - 1; k >= 0; k--) {
    let i = starts[k]!;
    if (text[i] === ' ') {
      // "\boxed 5": the argument runs to the next "$" or whitespace.
      const m = /^ +([^\s$]+)/.exec(text.slice(i));
      if (m !== null) return m[1]!;
      continue;
    }
    if (text[i] !== '{') continue;
    let depth = 0;
    for (; i < text.length; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}' && --depth === 0) return text.slice(starts[k]! + 1, i);
    }
  }
  return null;
}

/** The text after the last "the answer is" (also "final answer is", with an optional colon). */
function answerIsPhrase(text: string): string | null {
  const re = /answer is:?\s*/gi;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) last = m;
  if (last === null) return null;
  const line = text.slice(last.index + last[0].length).split('\n')[0]!;
  // "$\frac{3}{4}$. I hope it is correct." → the math span; plain text runs to the end of the sentence.
  const math = /^\$+([^$]*)\$/.exec(line) ?? /^\\\((.*?)\\\)/.exec(line);
  const rest = (math !== null ? math[1]! : line.split(/\.(?:\s|$)/)[0]!).trim();
  return rest.length > 0 ? rest : null;
}

/** The last plain number: integers, decimals, thousands-separated, or an integer fraction `a/b`. */
function lastNumber(text: string): string | null {
  const re = /-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+\/\d+|-?\d+(?:\.\d+)?|-?\.\d+/g;
  let last: string | null = null;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) last = m[0];
  return last === null ? null : last.replace(/,/g, '');
}

/**
 * The final answer of a solution: the last `\boxed{...}` (nested braces kept), else what follows the last
 * "The answer is", else the last plain number; null when there is none.
 */
export function extractAnswer(text: string): string | null {
  return lastBoxed(text) ?? answerIsPhrase(text) ?? lastNumber(text);
}
