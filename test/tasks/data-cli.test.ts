import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runData, runDataGen } from '../../lib/cli/commands/data.js';
import { parseRecord } from '../../lib/tasks/arithmetic/jsonl.js';
import { generateSplit } from '../../lib/tasks/arithmetic/split.js';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runDataGen(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('thinktree data gen', () => {
  it('writes n JSONL records of the level and split to stdout, the same as the library split', async () => {
    const { code, out, err } = await run(['--seed', '3', '--n', '25', '--level', '2', '--split', 'test']);
    expect(code).toBe(0);
    expect(err).toBe('');
    const records = out.trimEnd().split('\n').map(parseRecord);
    expect(records).toHaveLength(25);
    expect(records.every((r) => r.level === 2 && r.unique_id.startsWith('arithmetic/level-2/test/'))).toBe(true);
    expect(records.map((r) => r.problem)).toEqual(generateSplit({ seed: 3, n: 25, level: 2, split: 'test' }).map((p) => p.text));
  });

  it('defaults to the train split', async () => {
    const { out } = await run(['--seed', '3', '--n', '2', '--level', '1']);
    expect(out.trimEnd().split('\n').map((l) => parseRecord(l).unique_id.split('/')[2])).toEqual(['train', 'train']);
  });

  it('writes to --out FILE and reports it on stdout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'thinktree-data-'));
    dirs.push(dir);
    const file = join(dir, 'train.jsonl');
    const { code, out } = await run(['--seed', '1', '--n', '1500', '--level', '5', '--out', file]);
    expect(code).toBe(0);
    expect(out).toBe(`Wrote 1500 level-5 train problems to ${file}\n`);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(1500);
    expect(new Set(lines.map((l) => parseRecord(l).unique_id)).size).toBe(1500);
  });

  it('refuses an --out in a missing folder at start, as a usage error (exit 2) naming the flag', async () => {
    const dir = join(tmpdir(), 'no-such-dir-4j2');
    const { code, err } = await run(['--seed', '1', '--n', '1', '--level', '1', '--out', join(dir, 'x.jsonl')]);
    expect(code).toBe(2);
    expect(err).toContain(`--out ${join(dir, 'x.jsonl')}: folder ${dir} does not exist`);
  });

  it.each([
    [['--seed', '1', '--n', '1', '--level', '1', '--colour', 'red'], /Unknown flag --colour/],
    [['--seed', '1', '--n', '1', '--level'], /Missing value for --level/],
    [['--seed', '--n', '1', '--level', '1'], /Missing value for --seed/],
    [['--n', '1', '--level', '1'], /Missing required flag --seed/],
    [['--seed', '1', '--n', '1', '--level', '0'], /--level must be an integer from 1 to 5, got '0'/],
    [['--seed', '1', '--n', '1', '--level', '6'], /--level must be an integer from 1 to 5, got '6'/],
    [['--seed', '1', '--n', '1', '--level', 'hard'], /--level must be an integer from 1 to 5/],
    [['--seed', '1', '--n', '0', '--level', '1'], /--n must be a positive integer/],
    [['--seed', '1', '--n', '2.5', '--level', '1'], /--n must be a positive integer .*got '2\.5'/],
    [['--seed', '1', '--n', '-3', '--level', '1'], /Missing value for --n \(the next argument starts with '-'/],
    [['--seed', '1', '--n=-3', '--level', '1'], /--n must be a positive integer .*got '-3'/],
    [['--seed', 'abc', '--n', '1', '--level', '1'], /--seed must be a non-negative integer/],
    [['--seed', '1', '--n', '1', '--level', '1', '--split', 'dev'], /--split must be train, calibration or test, got 'dev'/],
    [['--seed', '1', '--n', '1', '--level', '1', 'extra'], /Unexpected argument extra/],
  ])('rejects %j with a clear message and exit code 2', async (argv, message) => {
    const { code, out, err } = await run(argv);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(message);
    expect(err).toContain('Usage: thinktree data gen');
  });

  it('prints its help with --help and exits 0', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out).toContain('--level L');
  });

  it('dispatches `data gen` and rejects an unknown data subcommand', async () => {
    let out = '';
    let err = '';
    const io = { stdout: (s: string) => void (out += s), stderr: (s: string) => void (err += s) };
    expect(await runData(['gen', '--seed', '1', '--n', '1', '--level', '1'], io)).toBe(0);
    expect(out.trimEnd().split('\n')).toHaveLength(1);
    expect(await runData(['mix'], io)).toBe(2);
    expect(err).toMatch(/unknown subcommand 'mix'/);
  });
});
