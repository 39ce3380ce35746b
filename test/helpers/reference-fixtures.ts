// Reads the reference outputs that tools/fixtures/reference.py wrote next to each tiny model.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface LogitsBlock {
  rows: number;
  cols: number;
  data: Float32Array;
}

export interface ReferencePrompt {
  name: string;
  text: string;
  tokens: number[];
  logits: LogitsBlock;
  greedy: { tokens: number[]; margins: number[]; logits: LogitsBlock };
}

export interface Reference {
  vocabSize: number;
  tokenizerSize: number;
  prompts: ReferencePrompt[];
}

interface BlockRef {
  byteOffset: number;
  rows: number;
  cols: number;
}

export const TINY_DIR = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..', 'fixtures', 'tiny');
export const TINY_MODELS = ['llama-f32', 'llama-bf16-sharded', 'qwen2-bf16', 'mistral-f16'] as const;

export function readReference(dir: string): Reference {
  const json = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8')) as {
    vocabSize: number;
    tokenizerSize: number;
    logitsFile: string;
    prompts: (Omit<ReferencePrompt, 'logits' | 'greedy'> & {
      logits: BlockRef;
      greedy: { tokens: number[]; margins: number[]; logits: BlockRef };
    })[];
  };
  const bin = readFileSync(path.join(dir, json.logitsFile));
  const block = (b: BlockRef): LogitsBlock => {
    const bytes = bin.subarray(b.byteOffset, b.byteOffset + b.rows * b.cols * 4);
    // Copy into an aligned buffer: the Buffer may start at any byte.
    const data = new Float32Array(b.rows * b.cols);
    new Uint8Array(data.buffer).set(bytes);
    return { rows: b.rows, cols: b.cols, data };
  };
  return {
    vocabSize: json.vocabSize,
    tokenizerSize: json.tokenizerSize,
    prompts: json.prompts.map((p) => ({
      ...p,
      logits: block(p.logits),
      greedy: { tokens: p.greedy.tokens, margins: p.greedy.margins, logits: block(p.greedy.logits) },
    })),
  };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
