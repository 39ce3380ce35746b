/** Writes an evaluation's files into one folder. */

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvalRow } from './aggregate.js';
import type { ProblemResult } from './runner.js';

export interface EvalOutputs {
  rows: readonly EvalRow[];
  /** Per-problem results (written as problems.jsonl for later analysis). */
  results: readonly ProblemResult[];
  markdown: string;
  svg: string;
}

export interface WrittenFiles {
  json: string;
  markdown: string;
  svg: string;
  problems: string;
}

/** `<prefix>-2025-11-25T10-40-12` in the working directory: sortable, no characters a shell minds. */
export function timestampedDir(prefix: string, date: Date = new Date()): string {
  return path.resolve(`${prefix}-${date.toISOString().slice(0, 19).replace(/:/g, '-')}`);
}

/** The rows as JSON (an array, one object per strategy × budget × level). */
export function rowsJson(rows: readonly EvalRow[]): string {
  return `${JSON.stringify(rows, null, 2)}\n`;
}

export async function writeEvalOutputs(dir: string, outputs: EvalOutputs): Promise<WrittenFiles> {
  await mkdir(dir, { recursive: true });
  const files: WrittenFiles = {
    json: path.join(dir, 'results.json'),
    markdown: path.join(dir, 'results.md'),
    svg: path.join(dir, 'accuracy.svg'),
    problems: path.join(dir, 'problems.jsonl'),
  };
  await Promise.all([
    writeFile(files.json, rowsJson(outputs.rows), 'utf8'),
    writeFile(files.markdown, outputs.markdown.endsWith('\n') ? outputs.markdown : `${outputs.markdown}\n`, 'utf8'),
    writeFile(files.svg, outputs.svg, 'utf8'),
    writeFile(files.problems, outputs.results.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8'),
  ]);
  return files;
}
