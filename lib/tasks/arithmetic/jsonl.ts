/**
 * The JSONL record, MATH-500 style (`problem`, `answer`, `level`, `unique_id`) plus the reference
 * `solution` and the `structured` form the checker needs. `answer` is a string like MATH-500's.
 */

import { isLevel, type Level } from './levels.js';
import { validateStructured, type ArithmeticProblem, type StructuredProblem } from './problem.js';
import { referenceSolution } from './solution.js';
import { contentId, type SplitName } from './split.js';

export interface ArithmeticRecord {
  problem: string;
  answer: string;
  level: Level;
  solution: string;
  structured: StructuredProblem;
  /** `arithmetic/level-<L>/<split>/<16 hex digits of the normalised text>`. */
  unique_id: string;
}

export function toRecord(problem: ArithmeticProblem, split: SplitName): ArithmeticRecord {
  const s = problem.structured;
  return {
    problem: problem.text,
    answer: String(s.answer),
    level: problem.level,
    solution: referenceSolution(s),
    // A fresh object in a fixed key order, so the JSON text is stable.
    structured: { start: s.start, operations: s.operations.map(({ op, operand }) => ({ op, operand })), answer: s.answer, actor: s.actor, object: s.object },
    unique_id: `arithmetic/level-${problem.level}/${split}/${contentId(problem.text)}`,
  };
}

/** One JSONL line, newline included. */
export function recordLine(record: ArithmeticRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** Reads one JSONL line back, checking every field; throws a TypeError that names the bad field. */
export function parseRecord(line: string): ArithmeticRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (error) {
    throw new TypeError(`Not a JSON line: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null) throw new TypeError('Expected a JSON object');
  const r = raw as Record<string, unknown>;
  for (const field of ['problem', 'answer', 'solution', 'unique_id'] as const) {
    if (typeof r[field] !== 'string') throw new TypeError(`Expected \`${field}\` to be a string`);
  }
  if (!isLevel(r.level)) throw new TypeError(`Expected \`level\` to be an integer in 1..5, got ${String(r.level)}`);
  const s = r.structured as StructuredProblem | undefined;
  if (typeof s !== 'object' || s === null) throw new TypeError('Expected `structured` to be an object');
  if (typeof s.actor !== 'string' || typeof s.object !== 'string') throw new TypeError('Expected `structured.actor` and `structured.object` to be strings');
  validateStructured(s);
  if (r.answer !== String(s.answer)) throw new TypeError(`\`answer\` ${String(r.answer)} differs from structured.answer ${s.answer}`);
  return raw as ArithmeticRecord;
}
