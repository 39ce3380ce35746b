/**
 * The weights files under a loaded model (issue 30, crashes: a weights file that shrinks or is rewritten
 * while a model is loaded). Mapped (the default), a changed file is refused before it is read, and the
 * process survives; read into memory (mmap: false), the model keeps giving the results it gave before.
 * The changes run in a child process, so a regression kills the child, not the test runner.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serialize } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeAddon } from '../../lib/native/load.js';
import { writeTinyModel, type TinyModel } from '../helpers/tiny-model.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const child = path.join(root, 'test/native/children/weights-child.mjs');

interface ChildOutput {
  before: number[];
  after?: number[];
  error?: { code?: string; message: string };
  again?: number[];
  againError?: { code?: string };
}

let tiny: TinyModel | undefined;
afterEach(() => tiny?.cleanup());

function runChild(change: 'truncate' | 'overwrite' | 'none', mmap: boolean): ChildOutput {
  tiny = writeTinyModel({ seed: 3, hidden: 64, layers: 2 });
  const specFile = path.join(path.dirname(tiny.file), 'spec.v8');
  writeFileSync(specFile, serialize(tiny.spec));
  const r = spawnSync(process.execPath, [child, specFile, change, String(mmap), root], { encoding: 'utf8', timeout: 60_000 });
  // Exited by itself, status 0: no SIGBUS, no abort.
  expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildOutput;
}

describe('a mapped weights file that changes while the model is loaded', () => {
  it('is refused with WEIGHTS_CHANGED naming the file when truncated, and stays refused', () => {
    const out = runChild('truncate', true);
    expect(out.after).toBeUndefined();
    expect(out.error?.code).toBe('WEIGHTS_CHANGED');
    expect(out.error?.message).toContain(tiny!.file);
    expect(out.error?.message).toMatch(/truncated from \d+ to \d+ bytes/);
    expect(out.againError?.code).toBe('WEIGHTS_CHANGED');
  });

  it('is refused when rewritten in place at the same size', () => {
    const out = runChild('overwrite', true);
    expect(out.error?.code).toBe('WEIGHTS_CHANGED');
    expect(out.error?.message).toContain('rewritten in place');
  });

  it('runs as before while unchanged', () => {
    const out = runChild('none', true);
    expect(out.error).toBeUndefined();
    expect(out.after).toEqual(out.before);
  });
});

describe('mmap: false', () => {
  it('gives the same logits after the file is truncated', () => {
    const out = runChild('truncate', false);
    expect(out.error).toBeUndefined();
    expect(out.before.length).toBe(tiny!.config.vocab);
    expect(out.after).toEqual(out.before);
    expect(out.again).toEqual(out.before);
  });

  it('gives the same logits after the file is rewritten in place', () => {
    const out = runChild('overwrite', false);
    expect(out.error).toBeUndefined();
    expect(out.after).toEqual(out.before);
  });

  it('gives the logits the mapped load gives', async () => {
    tiny = writeTinyModel({ seed: 5 });
    const logits = async (mmap: boolean) => {
      const model = await nativeAddon().loadModel({ ...tiny!.spec, mmap });
      const s = model.createSequence(0);
      model.appendTokens(s, Int32Array.of(1, 2, 3, 4));
      const out = await model.forward(Int32Array.of(s), 'all');
      model.dispose();
      return out;
    };
    const mapped = await logits(true);
    expect(await logits(false)).toEqual(mapped);
  });
});

describe('weights paths that are not regular files', () => {
  it('refuses a FIFO without blocking, naming it', async () => {
    tiny = writeTinyModel({ seed: 6 });
    const fifo = path.join(path.dirname(tiny.file), 'weights.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // No writer ever opens the FIFO: a blocking open would hang this call (and the test) forever.
    await expect(nativeAddon().loadModel({ ...tiny.spec, files: [fifo] })).rejects.toThrow(`${fifo} is a FIFO (named pipe), expected a regular safetensors file`);
  });

  it('refuses a directory and a character device', async () => {
    tiny = writeTinyModel({ seed: 6 });
    const dir = path.join(path.dirname(tiny.file), 'a-dir');
    mkdirSync(dir);
    await expect(nativeAddon().loadModel({ ...tiny.spec, files: [dir] })).rejects.toThrow('is a directory');
    await expect(nativeAddon().loadModel({ ...tiny.spec, files: ['/dev/zero'] })).rejects.toThrow('/dev/zero is a character device');
    rmSync(dir, { recursive: true });
  });
});
