// The checkpoint id that calibration tables are keyed by must follow the weights, not only the shapes.
import { cp, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../lib/models/model.js';

const FIXTURE = path.resolve(import.meta.dirname, '..', 'fixtures', 'tiny', 'llama-f32');

async function idOf(dir: string): Promise<string> {
  const model = await loadModel(dir, { threads: 1, kvCacheBytes: 1 << 20 });
  try {
    return model.info.id;
  } finally {
    model.dispose();
  }
}

/** Flips one byte of the safetensors file at `fromEnd` bytes before its end (inside the last tensor). */
async function flipByte(file: string, fromEnd: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    const { size } = await fh.stat();
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, size - fromEnd);
    b[0] = b[0]! ^ 0x01;
    await fh.write(b, 0, 1, size - fromEnd);
  } finally {
    await fh.close();
  }
}

describe('checkpoint identity', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'thinktree-id-'));
  });
  afterAll(async () => rm(tmp, { recursive: true, force: true }));

  it('is the same for a byte-identical copy, named by the directory', async () => {
    const copy = path.join(tmp, 'llama-f32');
    await cp(FIXTURE, copy, { recursive: true });
    expect(await idOf(copy)).toBe(await idOf(FIXTURE));
    expect(await idOf(copy)).toMatch(/^llama-f32@[0-9a-f]{12}$/);
  });

  it('changes when a weight changes and the shapes do not', async () => {
    const copy = path.join(tmp, 'changed', 'llama-f32');
    await cp(FIXTURE, copy, { recursive: true });
    await flipByte(path.join(copy, 'model.safetensors'), 1);
    expect(await idOf(copy)).not.toBe(await idOf(FIXTURE));
  });
});
