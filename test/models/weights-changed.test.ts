/**
 * The `mmap` load option through the public API (issue 30, crashes: results changed silently under the
 * same info.id when a weights file was rewritten in place). Rewriting at the same size cannot fault, so
 * this runs in process; truncation, which can, runs in a child process in test/native/weights-file.test.ts.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { OptionError, WeightsChangedError, loadModel, type Model } from '../../lib/index.js';

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'tiny', 'llama-f32');
let dir: string | undefined;
let model: Model | undefined;
afterEach(() => {
  model?.dispose();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  model = dir = undefined;
});

function copy(): string {
  dir = mkdtempSync(path.join(tmpdir(), 'tt-weights-'));
  cpSync(fixture, dir, { recursive: true });
  return dir;
}

/** Rewrites every weight byte of the copy's safetensors file in place, at the same size. */
function rewrite(file: string): void {
  const bytes = readFileSync(file);
  const dataStart = 8 + Number(bytes.readBigUInt64LE(0));
  for (let i = dataStart; i < bytes.length; i++) bytes[i] = (bytes[i]! + 1) & 0xff;
  writeFileSync(file, bytes);
}

const IDS = [1, 5, 9, 14];

describe('loadModel mmap option', () => {
  it('is checked to be a boolean', async () => {
    await expect(loadModel(fixture, { mmap: 'no' as unknown as boolean })).rejects.toThrow(OptionError);
    await expect(loadModel(fixture, { mmap: 'no' as unknown as boolean })).rejects.toThrow('Expected `mmap` to be a boolean, got no');
  });

  it('mapped (the default): a file rewritten in place is refused with WeightsChangedError naming it', async () => {
    const d = copy();
    model = await loadModel(d, { threads: 1, device: 'cpu' });
    await model.logits(IDS);
    const file = path.join(d, 'model.safetensors');
    rewrite(file);
    const err = await model.logits(IDS).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(WeightsChangedError);
    expect((err as Error).message).toContain(file);
    await expect(model.generate(IDS, { maxTokens: 2 })).rejects.toThrow(WeightsChangedError);
  });

  it('mmap: false gives the same logits after the file is rewritten, and the logits of a mapped load', async () => {
    const d = copy();
    model = await loadModel(d, { threads: 1, device: 'cpu', mmap: false });
    const before = await model.logits(IDS);
    const mapped = await loadModel(d, { threads: 1, device: 'cpu' });
    expect(await mapped.logits(IDS)).toEqual(before);
    mapped.dispose();
    rewrite(path.join(d, 'model.safetensors'));
    expect(await model.logits(IDS)).toEqual(before);
  });
});
