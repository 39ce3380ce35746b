/**
 * Model folders whose files are not regular files (issue 30, hangs: a weights path that is a FIFO
 * blocked loadModel forever, and its AbortSignal did nothing). Every file a load reads is refused up
 * front, naming it, without an open that would wait for a writer.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FileReadError, loadModel, loadPrm } from '../../lib/index.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'tiny');

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A copy of a fixture folder with `file` replaced by a FIFO no one writes to. */
function withFifo(fixture: string, file: string): string {
  dir = mkdtempSync(path.join(tmpdir(), 'tt-fifo-'));
  const copy = path.join(dir, 'model');
  cpSync(path.join(fixtures, fixture), copy, { recursive: true });
  rmSync(path.join(copy, file), { force: true });
  expect(spawnSync('mkfifo', [path.join(copy, file)]).status).toBe(0);
  return copy;
}

describe('a model folder holding a FIFO', () => {
  for (const file of ['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json']) {
    it(`refuses ${file} as a FIFO, naming it`, async () => {
      const copy = withFifo('llama-f32', file);
      const err = await loadModel(copy, { threads: 1 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(FileReadError);
      expect((err as FileReadError).path).toBe(path.join(copy, file));
      expect((err as Error).message).toContain('is a FIFO (named pipe)');
    });
  }

  it('refuses it for a PRM too', async () => {
    const copy = withFifo('llama-f32', 'model.safetensors');
    await expect(loadPrm(copy, { threads: 1 })).rejects.toThrow(/model\.safetensors: cannot [a-z ]+: it is a FIFO \(named pipe\), not a regular file/);
  });
});
