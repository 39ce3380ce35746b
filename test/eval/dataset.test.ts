import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetError, firstPerLevel, loadDataset, parseDataset } from '../../lib/eval/dataset.js';

const line = (o: unknown) => JSON.stringify(o);
const ok = { problem: 'What is 2 + 3?', answer: '5', level: 1, unique_id: 'q1' };

describe('parseDataset', () => {
  it('reads problem, answer, level and unique_id, skipping blank lines', () => {
    const text = `${line(ok)}\n\n${line({ ...ok, unique_id: 'q2', level: 3 })}\n`;
    expect(parseDataset(text, 'd.jsonl')).toEqual([
      { problem: 'What is 2 + 3?', answer: '5', level: 1, uniqueId: 'q1' },
      { problem: 'What is 2 + 3?', answer: '5', level: 3, uniqueId: 'q2' },
    ]);
  });

  it('names a record without unique_id by file:line', () => {
    const { unique_id: _, ...noId } = ok;
    expect(parseDataset(`\n${line(noId)}`, 'd.jsonl')[0]!.uniqueId).toBe('d.jsonl:2');
  });

  it('accepts a numeric answer as its decimal string', () => {
    expect(parseDataset(line({ ...ok, answer: 42 }), 'd.jsonl')[0]!.answer).toBe('42');
  });

  it.each([
    ['a missing problem', { answer: '5', level: 1 }, /d\.jsonl:2: field `problem`.*missing/],
    ['an empty problem', { ...ok, problem: '  ' }, /d\.jsonl:2: field `problem`/],
    ['a missing answer', { problem: 'p', level: 1 }, /d\.jsonl:2: field `answer`/],
    ['an object answer', { ...ok, answer: { v: 5 } }, /d\.jsonl:2: field `answer`.*\{"v":5\}/],
    ['a fractional level', { ...ok, level: 1.5 }, /d\.jsonl:2: field `level`.*1\.5/],
    ['a level given as text', { ...ok, level: 'Level 3' }, /d\.jsonl:2: field `level`.*"Level 3"/],
    ['a numeric unique_id', { ...ok, unique_id: 7 }, /d\.jsonl:2: field `unique_id`/],
  ])('rejects %s naming file:line and the field', (_, record, message) => {
    expect(() => parseDataset(`${line(ok)}\n${line(record)}\n`, 'd.jsonl')).toThrow(message);
  });

  it('rejects a line that is not JSON with its line number', () => {
    expect(() => parseDataset(`${line(ok)}\n${line(ok)}\n{"problem": `, 'd.jsonl')).toThrow(/^d\.jsonl:3: not a JSON line/);
  });

  it('rejects a JSON array line', () => {
    expect(() => parseDataset('[1, 2]', 'd.jsonl')).toThrow(/d\.jsonl:1: expected a JSON object/);
  });

  it('throws DatasetError for an empty file', () => {
    expect(() => parseDataset('\n\n', 'empty.jsonl')).toThrow(DatasetError);
  });
});

describe('loadDataset', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('names the file when it cannot be read', async () => {
    await expect(loadDataset('/nonexistent/x.jsonl')).rejects.toThrow(/Cannot read data file \/nonexistent\/x\.jsonl/);
  });

  it('reports errors with the path it was given', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'thinktree-ds-'));
    dirs.push(dir);
    const file = path.join(dir, 'bad.jsonl');
    await writeFile(file, `${line(ok)}\n${line({ ...ok, level: 0 })}\n`);
    await expect(loadDataset(file)).rejects.toThrow(`${file}:2: field \`level\``);
  });

  it('reads a gzip-compressed file as its plain text, and names a corrupt one', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'thinktree-ds-'));
    dirs.push(dir);
    const text = `${line(ok)}\n${line({ ...ok, unique_id: 'q2', level: 4 })}\n`;
    const plain = path.join(dir, 'd.jsonl');
    const packed = path.join(dir, 'd.jsonl.gz');
    await writeFile(plain, text);
    await writeFile(packed, gzipSync(Buffer.from(text)));
    const records = await loadDataset(packed);
    expect(records.map((r) => [r.uniqueId, r.level])).toEqual([['q1', 1], ['q2', 4]]);
    expect(records).toEqual(await loadDataset(plain));
    const corrupt = path.join(dir, 'cut.jsonl.gz');
    await writeFile(corrupt, gzipSync(Buffer.from(text)).subarray(0, 20));
    await expect(loadDataset(corrupt)).rejects.toThrow(`${corrupt}: starts as gzip but does not decompress`);
  });
});

describe('firstPerLevel', () => {
  it('keeps the first n records of each level in their original order', () => {
    const records = [1, 2, 1, 1, 2, 3].map((level, i) => ({ problem: `p${i}`, answer: '1', level, uniqueId: `u${i}` }));
    expect(firstPerLevel(records, 2).map((r) => r.uniqueId)).toEqual(['u0', 'u1', 'u2', 'u4', 'u5']);
  });
});
