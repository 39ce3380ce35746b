/**
 * Exact parsers for the step and answer formats of solution.ts. They take arbitrary model output and
 * never throw: anything outside the format is `null`. Numbers are BigInt so that a model writing
 * thirty-digit numbers is judged exactly instead of being rounded into a false "correct".
 */

import type { OpKind } from './templates.js';

export interface ParsedStep {
  left: bigint;
  op: OpKind;
  right: bigint;
  result: bigint;
}

const SYMBOL_OP: Readonly<Record<string, OpKind>> = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div' };

/**
 * `<int> <op> <int> = <int>`, spaces optional, whole paragraph after trimming. The result may be
 * negative so that a model's `5 - 9 = -4` is judged for what it is rather than called garbage.
 * Numbers longer than 40 digits are out of format: no step of this task comes near that.
 */
const STEP_RE = /^(\d{1,40})[ \t]*([-+*/])[ \t]*(\d{1,40})[ \t]*=[ \t]*(-?\d{1,40})$/;

export function parseStep(paragraph: string): ParsedStep | null {
  if (paragraph.length > 200) return null;
  const m = STEP_RE.exec(paragraph.trim());
  if (m === null) return null;
  return { left: BigInt(m[1]), op: SYMBOL_OP[m[2]], right: BigInt(m[3]), result: BigInt(m[4]) };
}

/** Whether `left op right` really equals `result`; a division is right only when it is exact. */
export function arithmeticHolds(step: ParsedStep): boolean {
  switch (step.op) {
    case 'add': return step.left + step.right === step.result;
    case 'sub': return step.left - step.right === step.result;
    case 'mul': return step.left * step.right === step.result;
    case 'div': return step.right !== 0n && step.right * step.result === step.left;
  }
}

const BOXED = '\\boxed{';

/** Whether a paragraph states an answer (contains `\boxed{`). */
export function hasBoxed(text: string): boolean {
  return text.includes(BOXED);
}

/**
 * The content of the last `\boxed{...}` in `text`, braces inside it balanced, trimmed; null when there
 * is none or it is never closed. The last one because models that revise themselves box the final
 * answer last.
 */
export function extractBoxed(text: string): string | null {
  const at = text.lastIndexOf(BOXED);
  if (at < 0) return null;
  let depth = 1;
  for (let i = at + BOXED.length; i < text.length; i++) {
    const c = text[i];
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return text.slice(at + BOXED.length, i).trim();
  }
  return null;
}

/** An integer answer such as `236` or `-4`; null for anything else (`236 apples`, `2.5`, ``). */
export function parseIntegerAnswer(content: string | null): bigint | null {
  if (content === null || !/^-?\d{1,40}$/.test(content)) return null;
  return BigInt(content);
}
