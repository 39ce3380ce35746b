/**
 * process.exit() during a generation (issue 30, hangs: process.exit waited seconds for native work).
 * The child starts a generation that would run for half a minute and exits 50 ms later.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serialize } from 'node:v8';
import { afterAll, expect, it } from 'vitest';
import { writeTinyModel } from '../helpers/tiny-model.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tiny = writeTinyModel({ seed: 4, hidden: 128, intermediate: 256, layers: 2, kvCacheBytes: 64 << 20, threads: 1 });
afterAll(() => tiny.cleanup());

it('exits without waiting for the generation in flight', () => {
  const specFile = path.join(path.dirname(tiny.file), 'spec.v8');
  writeFileSync(specFile, serialize(tiny.spec));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [path.join(root, 'test/native/children/exit-during-generation.mjs'), specFile, root, '20000'], {
    encoding: 'utf8',
    timeout: 100_000,
  });
  const ms = performance.now() - t0;
  expect({ status: r.status, signal: r.signal, stdout: r.stdout.trim(), stderr: r.stderr }).toEqual({ status: 3, signal: null, stdout: 'exiting', stderr: '' });
  // Generous: the 20000-token generation alone takes well over 10 s on this model.
  expect(ms).toBeLessThan(10_000);
});
