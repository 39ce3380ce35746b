/**
 * The tiny PRM fixtures (test/fixtures/tiny-prm/*, made by tools/fixtures/make_tiny_prms.py) and their
 * reference rewards, plus a plain re-statement of how a layout turns a question and steps into text.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { PrmLayout } from '../../lib/models/prm/format.js';

export const TINY_PRM = fileURLToPath(new URL('../fixtures/tiny-prm/', import.meta.url));
export const PRM_FIXTURES = ['qwen2-prm', 'math-shepherd', 'value-head'] as const;
export type PrmFixture = (typeof PRM_FIXTURES)[number];

export const fixtureDir = (name: PrmFixture) => path.join(TINY_PRM, name);

export interface ReferenceCase {
  format: 'qwen2.5-math-prm' | 'math-shepherd' | 'rlhflow' | 'value-head';
  question: string;
  steps: string[];
  text: string;
  tokens: number[];
  positions: number[];
  rewards: number[];
}

export interface PrmReference {
  format: string;
  head: { kind: string; prefix?: string; outputs?: number; bias?: boolean; tokenIds?: number[] };
  reward: { kind: 'softmax'; pick: number } | { kind: 'sigmoid' };
  tokenizerSize: number;
  float64MaxAbsDiff: number;
  ids: Array<{ ids: number[]; positions: number[]; rewards: number[] }>;
  cases: ReferenceCase[];
}

export function readReference(name: PrmFixture): PrmReference {
  return JSON.parse(readFileSync(path.join(TINY_PRM, name, 'prm-reference.json'), 'utf8')) as PrmReference;
}

/** The full text of a question and steps under `layout`, and the text through each step. */
export function layoutText(layout: PrmLayout, question: string, steps: readonly string[]): { text: string; ends: string[] } {
  let text = layout.prefix(question);
  let tail = '';
  const ends = steps.map((s, i) => {
    const st = layout.step(s, i);
    text += tail + st.text;
    tail = st.tail;
    return text;
  });
  return { text, ends };
}
