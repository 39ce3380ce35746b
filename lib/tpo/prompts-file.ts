/**
 * The prompts a TPO run starts from: JSONL (gzip allowed), one object a line with the instruction in
 * `prompt` (or `problem`, as the task data files have it), and optionally `answer` (the reference, for
 * the task checker judge), `level`, and `id` / `unique_id`.
 */
import { DatasetError, readDataText } from '../eval/dataset.js';

export interface TpoPrompt {
  instruction: string;
  /** The reference answer, when the file gives one. */
  reference?: string;
  /** `id` or `unique_id`, else `file:line`. */
  id: string;
  level?: number;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function parseLine(line: string, where: string): TpoPrompt {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new DatasetError(`${where}: not a JSON line (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new DatasetError(`${where}: expected a JSON object`);
  const r = raw as Record<string, unknown>;
  const field = r.prompt !== undefined ? 'prompt' : 'problem';
  const instruction = r[field];
  if (typeof instruction !== 'string' || instruction.trim() === '') {
    throw new DatasetError(`${where}: field \`prompt\` (or \`problem\`) must be a non-empty string, got ${show(instruction)}`);
  }
  const out: TpoPrompt = { instruction, id: where };
  if (r.answer !== undefined) {
    if (typeof r.answer === 'string' && r.answer.trim() !== '') out.reference = r.answer;
    else if (typeof r.answer === 'number' && Number.isFinite(r.answer)) out.reference = String(r.answer);
    else throw new DatasetError(`${where}: field \`answer\` must be a non-empty string or a number when present, got ${show(r.answer)}`);
  }
  if (r.level !== undefined) {
    if (typeof r.level !== 'number' || !Number.isInteger(r.level) || r.level < 1) throw new DatasetError(`${where}: field \`level\` must be a positive integer when present, got ${show(r.level)}`);
    out.level = r.level;
  }
  const id = r.id ?? r.unique_id;
  if (id !== undefined) {
    if (typeof id !== 'string' || id === '') throw new DatasetError(`${where}: field \`${r.id !== undefined ? 'id' : 'unique_id'}\` must be a non-empty string when present, got ${show(id)}`);
    out.id = id;
  }
  return out;
}

/** Every prompt of a JSONL text (blank lines skipped); `file` only names the source in errors. */
export function parsePrompts(text: string, file: string): TpoPrompt[] {
  const out: TpoPrompt[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() !== '') out.push(parseLine(line, `${file}:${i + 1}`));
  }
  if (out.length === 0) throw new DatasetError(`${file}: no prompts (the file is empty)`);
  return out;
}

export async function loadPrompts(file: string): Promise<TpoPrompt[]> {
  return parsePrompts(await readDataText(file), file);
}
