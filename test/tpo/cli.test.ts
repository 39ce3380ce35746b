import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tpoCommand } from '../../lib/cli/commands/tpo.js';
import { pairRecordProblems } from '../../lib/tpo/records.js';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await tpoCommand.run(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

const dir = mkdtempSync(path.join(tmpdir(), 'thinktree-tpo-'));
const data = path.join(dir, 'prompts.jsonl');
writeFileSync(
  data,
  [
    { problem: 'Mia has 14 shells. She finds 9 more. How many shells does Mia have now?', answer: '23', level: 1 },
    { problem: 'Ben has 40 stamps. He gives away 12, then buys 7 more. How many stamps does Ben have?', answer: '35', level: 2 },
  ].map((r) => JSON.stringify(r)).join('\n'),
);

describe('thinktree tpo', () => {
  it('asks for a subcommand and names unknown ones', async () => {
    expect((await run([])).code).toBe(2);
    const r = await run(['pair', '--data', data]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Unknown subcommand 'pair'.*pairs/);
  });

  it('refuses a missing --out, an unknown judge and --judge orm without --orm', async () => {
    expect((await run(['pairs', '--data', data])).err).toMatch(/needs --out FILE/);
    expect((await run(['pairs', '--data', data, '--out', path.join(dir, 'x'), '--judge', 'prn'])).err).toMatch(/--judge must be one of.*did you mean 'prm'/);
    expect((await run(['pairs', '--data', data, '--out', path.join(dir, 'x'), '--judge', 'orm'])).err).toMatch(/--judge orm needs --orm DIR/);
    expect((await run(['eval', '--data', data, '--k', '4'])).err).toMatch(/--k is an option of tpo pairs/);
    expect((await run(['pairs', '--data', data, '--out', path.join(dir, 'x'), '--template', 'no slot', '--marker', 'M'])).err).toMatch(/\{instruction\} exactly once/);
  });

  it('writes a valid pairs file and a summary with the demo policy', async () => {
    const out = path.join(dir, 'pairs.jsonl');
    const summary = path.join(dir, 'summary.json');
    const r = await run(['pairs', '--data', data, '--out', out, '--summary', summary, '--thought-prompt', 'answer-line', '--k', '8', '--threads', '1', '--max-tokens', '200', '--seed', '3']);
    expect(r.code).toBe(0);
    const s = JSON.parse(readFileSync(summary, 'utf8'));
    expect(s).toMatchObject({ prompts: 2, samples: 16 });
    expect(r.out).toContain(`Wrote ${s.pairs} pairs`);
    const lines = readFileSync(out, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(s.pairs);
    for (const l of lines) expect(pairRecordProblems(JSON.parse(l))).toEqual([]);
  });

  it('prints a per-level table for each mode', async () => {
    const r = await run(['eval', '--data', data, '--thought-prompt', 'answer-line', '--threads', '1', '--max-tokens', '200', '--out', path.join(dir, 'eval.json')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/mode thought\n\| level \| problems/);
    expect(r.out).toMatch(/mode direct\n/);
    const doc = JSON.parse(readFileSync(path.join(dir, 'eval.json'), 'utf8'));
    expect(doc.results.map((x: { mode: string }) => x.mode)).toEqual(['thought', 'direct']);
    expect(doc.results[0].rows).toHaveLength(2);
  });
});
