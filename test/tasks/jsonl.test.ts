import { describe, expect, it } from 'vitest';
import { parseRecord, recordLine, toRecord } from '../../lib/tasks/arithmetic/jsonl.js';
import { renderProblem, type ArithmeticProblem, type Phrasing, type StructuredProblem } from '../../lib/tasks/arithmetic/problem.js';
import { contentId } from '../../lib/tasks/arithmetic/split.js';

const structured: StructuredProblem = {
  start: 37,
  operations: [{ op: 'add', operand: 48 }, { op: 'mul', operand: 3 }, { op: 'sub', operand: 19 }],
  answer: 236,
  actor: 'Ana',
  object: 'apples',
};
const phrasing: Phrasing = { pronoun: 'she', intro: 0, question: 0, sentences: [3], connectors: [], templates: [0, 11, 5] };
const problem: ArithmeticProblem = { level: 3, structured, phrasing, text: renderProblem(structured, phrasing) };

describe('JSONL records', () => {
  it('carries the MATH-500 fields, the reference solution and the structured form', () => {
    const record = toRecord(problem, 'test');
    expect(record).toEqual({
      problem: 'Ana has 37 apples. She buys 48 more, then triples them, then gives away 19. How many apples does Ana have now?',
      answer: '236',
      level: 3,
      solution: '37 + 48 = 85\n\n85 * 3 = 255\n\n255 - 19 = 236\n\nThe answer is \\boxed{236}.',
      structured: { start: 37, operations: structured.operations, answer: 236, actor: 'Ana', object: 'apples' },
      unique_id: `arithmetic/level-3/test/${contentId(problem.text)}`,
    });
    expect(record.unique_id).toMatch(/^arithmetic\/level-3\/test\/[0-9a-f]{16}$/);
  });

  it('writes one line of JSON per record', () => {
    const line = recordLine(toRecord(problem, 'train'));
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
  });

  it('reads a written line back to the same record', () => {
    const record = toRecord(problem, 'train');
    expect(parseRecord(recordLine(record))).toEqual(record);
  });

  it('rejects a line whose answer disagrees with its structure', () => {
    const record = { ...toRecord(problem, 'train'), answer: '235' };
    expect(() => parseRecord(JSON.stringify(record))).toThrow(/answer/);
  });

  it('rejects a level outside 1..5 and lines that are not JSON objects', () => {
    expect(() => parseRecord(JSON.stringify({ ...toRecord(problem, 'train'), level: 9 }))).toThrow(/level/);
    expect(() => parseRecord('{oops')).toThrow(/Not a JSON line/);
    expect(() => parseRecord('[]')).toThrow(TypeError);
  });

  it('gives texts that differ only in case and punctuation the same content id', () => {
    expect(contentId('Ana has 3 apples.')).toBe(contentId('ana has 3 apples'));
    expect(contentId('Ana has 3 apples.')).not.toBe(contentId('Ana has 4 apples.'));
  });
});
