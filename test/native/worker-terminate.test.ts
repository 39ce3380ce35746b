/**
 * Terminating a worker_thread while native work it started is in flight (issue 30, crashes: the whole
 * process aborted with "terminate called after throwing an instance of 'Napi::Error'" from the
 * worker's completion during environment cleanup). Runs in a child process so that a regression kills
 * the child, and asserts the child exited normally with its main thread still loading and generating.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serialize } from 'node:v8';
import { afterAll, expect, it } from 'vitest';
import { writeTinyModel } from '../helpers/tiny-model.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tiny = writeTinyModel({ seed: 4, hidden: 128, intermediate: 256, layers: 2, kvCacheBytes: 32 << 20, threads: 1 });
afterAll(() => tiny.cleanup());

it('never takes down the process: loads, generations and forwards in terminated workers', () => {
  const specFile = path.join(path.dirname(tiny.file), 'spec.v8');
  writeFileSync(specFile, serialize(tiny.spec));
  const rounds = 9;
  const r = spawnSync(process.execPath, [path.join(root, 'test/native/children/terminate-workers.mjs'), specFile, root, String(rounds)], {
    encoding: 'utf8',
    timeout: 100_000,
  });
  expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { rounds: number; seen: Record<string, number>; main: string };
  expect(out.main).toBe('ok');
  // The workers really were terminated mid-work: some reached the generation, none finished it.
  expect(out.seen.running).toBeGreaterThanOrEqual(rounds / 3);
  expect(out.seen.done).toBe(0);
});
