/**
 * Evaluation data: MATH-500-style JSONL, one problem a line with `problem` (the question), `answer` (the
 * reference final answer, a string as in MATH-500) and `level` (a positive integer). `unique_id` is kept
 * when present; other fields (the arithmetic task's `solution`, `structured`) are ignored here. A file may
 * be gzip-compressed (the shipped `models/data/*.jsonl.gz` are, to leave the models room in the package).
 */

import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

export interface EvalRecord {
  problem: string;
  answer: string;
  level: number;
  /** The record's `unique_id`, or `file:line` when it has none. */
  uniqueId: string;
}

/** A line of a data file is not a valid record; the message names the file, the line and the field. */
export class DatasetError extends Error {
  override name = 'DatasetError';
}

/** Parses one non-blank line; `where` is `file:line`. */
function parseLine(line: string, where: string): EvalRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new DatasetError(`${where}: not a JSON line (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DatasetError(`${where}: expected a JSON object`);
  }
  const r = raw as Record<string, unknown>;
  if (typeof r.problem !== 'string' || r.problem.trim() === '') {
    throw new DatasetError(`${where}: field \`problem\` must be a non-empty string, got ${describe(r.problem)}`);
  }
  // Numbers are accepted because hand-written files often carry `"answer": 42`; MATH-500 uses strings.
  let answer: string;
  if (typeof r.answer === 'string' && r.answer.trim() !== '') answer = r.answer;
  else if (typeof r.answer === 'number' && Number.isFinite(r.answer)) answer = String(r.answer);
  else throw new DatasetError(`${where}: field \`answer\` must be a non-empty string, got ${describe(r.answer)}`);
  if (typeof r.level !== 'number' || !Number.isInteger(r.level) || r.level < 1) {
    throw new DatasetError(`${where}: field \`level\` must be a positive integer, got ${describe(r.level)}`);
  }
  if (r.unique_id !== undefined && typeof r.unique_id !== 'string') {
    throw new DatasetError(`${where}: field \`unique_id\` must be a string when present, got ${describe(r.unique_id)}`);
  }
  return { problem: r.problem, answer, level: r.level, uniqueId: r.unique_id ?? where };
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Every record of a JSONL text (blank lines skipped); `file` only names the source in errors. */
export function parseDataset(text: string, file: string): EvalRecord[] {
  const records: EvalRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    records.push(parseLine(line, `${file}:${i + 1}`));
  }
  if (records.length === 0) throw new DatasetError(`${file}: no records (the file is empty)`);
  return records;
}

/** The text of a data file, gunzipped when it starts with the gzip magic bytes (whatever its name). */
export async function readDataText(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new DatasetError(`Cannot read data file ${file}: ${(err as Error).message}`);
  }
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes.toString('utf8');
  try {
    return gunzipSync(bytes).toString('utf8');
  } catch (err) {
    throw new DatasetError(`${file}: starts as gzip but does not decompress (${(err as Error).message})`);
  }
}

export async function loadDataset(file: string): Promise<EvalRecord[]> {
  return parseDataset(await readDataText(file), file);
}

/** The records of several files, in order. */
export async function loadDatasets(files: readonly string[]): Promise<EvalRecord[]> {
  const parts = await Promise.all(files.map(loadDataset));
  return parts.flat();
}

/** The first `perLevel` records of each level, in their original order. */
export function firstPerLevel(records: readonly EvalRecord[], perLevel: number): EvalRecord[] {
  const taken = new Map<number, number>();
  return records.filter((r) => {
    const k = taken.get(r.level) ?? 0;
    taken.set(r.level, k + 1);
    return k < perLevel;
  });
}
