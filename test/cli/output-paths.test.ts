// Output paths fail when the command starts, naming the flag, before any model loads or any work runs.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { checkOutputDir, checkWritableFile } from '../../lib/cli/output-paths.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'thinktree-out-'));
  await writeFile(path.join(dir, 'a-file'), 'x');
  await mkdir(path.join(dir, 'locked'));
  await chmod(path.join(dir, 'locked'), 0o500);
});
afterAll(async () => {
  await chmod(path.join(dir, 'locked'), 0o700);
  await rm(dir, { recursive: true, force: true });
});

// Root can write anywhere; the permission cases only mean something for other users.
const root = process.getuid?.() === 0;

describe('output path checks', () => {
  it('accept new and existing files in writable folders, and folders that can be made', () => {
    expect(() => checkWritableFile('json', path.join(dir, 'new.json'))).not.toThrow();
    expect(() => checkWritableFile('json', path.join(dir, 'a-file'))).not.toThrow();
    expect(() => checkOutputDir('out', path.join(dir, 'x', 'y', 'z'))).not.toThrow();
    expect(() => checkOutputDir('out', dir)).not.toThrow();
  });

  it('refuse a file in a missing folder, a folder given as a file, and a file given as a folder', () => {
    const missing = path.join(dir, 'nope', 'table.json');
    expect(() => checkWritableFile('out', missing)).toThrow(`--out ${missing}: folder ${path.join(dir, 'nope')} does not exist`);
    expect(() => checkWritableFile('json', dir)).toThrow(`--json ${dir} is a folder; give a file name`);
    expect(() => checkOutputDir('out', path.join(dir, 'a-file'))).toThrow(`--out ${path.join(dir, 'a-file')} is a file; give a folder`);
    expect(() => checkOutputDir('trees', path.join(dir, 'a-file', 'sub'))).toThrow(/is a file, so the folder cannot be made/);
    expect(() => checkWritableFile('out', path.join(dir, 'a-file', 'x.json'))).toThrow(/is a file, not a folder/);
  });

  it.skipIf(root)('refuse folders that are not writable', () => {
    expect(() => checkWritableFile('json', path.join(dir, 'locked', 'x.json'))).toThrow(/is not writable/);
    expect(() => checkOutputDir('out', path.join(dir, 'locked', 'sub'))).toThrow(/cannot make the folder/);
  });

  it('make calibrate, eval, demo and data fail at start (exit 2) on a bad output path', async () => {
    const io = { out: '', err: '' };
    const cliIo = { stdout: (s: string) => void (io.out += s), stderr: (s: string) => void (io.err += s) };
    const missing = path.join(dir, 'nope', 'table.json');
    const runs: [string[], RegExp][] = [
      [['calibrate', '--data', 'd.jsonl', '--model', '/nonexistent', '--prm', '/nonexistent', '--out', missing], /--out .*does not exist/],
      [['eval', '--data', 'd.jsonl', '--model', '/nonexistent', '--out', path.join(dir, 'a-file')], /--out .* is a file; give a folder/],
      [['eval', '--data', 'd.jsonl', '--model', '/nonexistent', '--json', dir], /--json .* is a folder/],
      [['demo', '--out', path.join(dir, 'a-file')], /--out .* is a file; give a folder/],
      [['data', 'gen', '--seed', '1', '--n', '2', '--level', '1', '--out', missing], /--out .*does not exist/],
    ];
    for (const [argv, message] of runs) {
      io.err = '';
      const code = await main(argv, cliIo);
      expect(code, argv.join(' ')).toBe(2);
      expect(io.err).toMatch(message);
    }
  });
});
