// The install script's decisions that need no npm install: which build tools count as missing, and
// the CUDA step's opt-out. Fast checks beside the slow whole-install tests.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
// @ts-expect-error plain ESM tool without type declarations
import { missingBuildTools } from '../../tools/prebuild/build-tools.mjs';
import { repoRoot, run, userEnv } from './install-harness.js';

const missing = missingBuildTools as (env: NodeJS.ProcessEnv) => string[];
let scratch: string;

/** A folder holding empty files with these names: enough for a PATH lookup. */
function fakeBin(name: string, programs: string[]): string {
  const dir = path.join(scratch, name);
  mkdirSync(dir);
  for (const p of programs) writeFileSync(path.join(dir, p), '');
  return dir;
}

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'thinktree-install-script-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('missingBuildTools', () => {
  test('names the compiler, make and python3 when PATH has none of them', () => {
    expect(missing({ PATH: fakeBin('empty', []) })).toEqual(['a C++ compiler (g++ or clang++)', 'make', 'python3']);
  });

  test('accepts clang++ as the compiler and python as python3', () => {
    expect(missing({ PATH: fakeBin('clang', ['clang++', 'make', 'python']) })).toEqual([]);
  });

  test('looks for the program CXX names instead of the defaults', () => {
    const PATH = fakeBin('gxx', ['g++', 'make', 'python3']);
    expect(missing({ PATH, CXX: 'clang++' })).toEqual(['a C++ compiler (g++ or clang++)']);
  });
});

describe('install script in this repo', () => {
  test.skipIf(!existsSync(path.join(repoRoot, 'build', 'Release', 'thinktree.node')))(
    'THINKTREE_CUDA=off keeps the local addon and says the CPU is used',
    () => {
      const env = { ...userEnv(process.env.PATH ?? ''), THINKTREE_CUDA: 'off' };
      const r = run(process.execPath, [path.join(repoRoot, 'tools', 'prebuild', 'install.mjs')], { cwd: repoRoot, env });
      expect(r.stdout).toBe(
        'thinktree: using the native addon build/Release/thinktree.node\n' +
          'thinktree: THINKTREE_CUDA=off: no CUDA library; the GPU path is unavailable and the CPU is used\n',
      );
    },
  );
});
