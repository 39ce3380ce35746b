import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertCommand } from '../../lib/cli/commands/convert.js';
import { readGgufHeader } from '../../lib/models/gguf/reader.js';
import { TINY_DIR } from '../helpers/reference-fixtures.js';

const tmp = await mkdtemp(path.join(os.tmpdir(), 'convert-cli-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) }, out, err };
}

describe('thinktree convert', () => {
  it('writes a GGUF file of the requested type', async () => {
    const file = path.join(tmp, 'q.gguf');
    const c = io();
    expect(await convertCommand.run([path.join(TINY_DIR, 'qwen2-bf16'), '--to', 'f16', '--out', file], c.io)).toBe(0);
    expect(c.out.join('')).toContain(`Wrote ${file} (f16)`);
    const g = await readGgufHeader(file);
    expect(g.tensors.get('blk.0.ffn_up.weight')!.type.name).toBe('F16');
    expect(g.metadata.get('general.file_type')).toEqual({ type: 'u32', value: 1 });
  });

  it('exits 2 naming --to for an unknown type, with a suggestion', async () => {
    const c = io();
    expect(await convertCommand.run([path.join(TINY_DIR, 'qwen2-bf16'), '--to', 'q8_1', '--out', path.join(tmp, 'x.gguf')], c.io)).toBe(2);
    expect(c.err.join('')).toMatch(/--to must be one of .*got 'q8_1'; did you mean 'q8_0'\?/);
  });

  it('exits 2 without a directory and 1 when the directory holds no model', async () => {
    const c = io();
    expect(await convertCommand.run(['--to', 'bf16', '--out', path.join(tmp, 'x.gguf')], c.io)).toBe(2);
    expect(c.err.join('')).toMatch(/expected one model directory, got none/);
    const d = io();
    expect(await convertCommand.run([tmp, '--to', 'bf16', '--out', path.join(tmp, 'y.gguf')], d.io)).toBe(1);
    expect(d.err.join('')).toMatch(/config\.json/);
  });
});
