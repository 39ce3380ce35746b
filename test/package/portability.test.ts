// The prebuild check that keeps AVX code out of the baseline path of a shipped addon, on tiny
// binaries built here the way binding.gyp builds the real one (ISA objects + baseline objects).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
// @ts-expect-error plain ESM tool without type declarations
import { checkPortability } from '../../tools/prebuild/portability.mjs';
import { repoRoot, run } from './install-harness.js';

const check = checkPortability as (addon: string) => string[];

// An inline function both files instantiate: integer sums vectorise at -O3, with ymm under -mavx2.
// noinline keeps it out of line, as a weak (COMDAT) symbol the linker merges across objects.
const shared = `
#include <cstddef>
__attribute__((noinline)) inline int SumSquares(const int* x, std::size_t n) {
  int s = 0;
  for (std::size_t i = 0; i < n; i++) s += x[i] * x[i];
  return s;
}
`;
const isaSource = `${shared}\nint SumSquaresAvx2(const int* x, std::size_t n) { return SumSquares(x, n); }\n`;
const baselineSource = `${shared}\nint SumSquaresBaseline(const int* x, std::size_t n) { return SumSquares(x, n) + 1; }\n`;
const plainSource = `int Plain(const int* x, int n) { int s = 0; for (int i = 0; i < n; i++) s += x[i] * 3; return s; }\n`;

let scratch: string;

/** A fake node-gyp Release folder: objects under obj.target/<target>/, linked in `order` into thinktree.node. */
function fakeRelease(name: string, objects: { target: string; source: string; flags: string[] }[]): string {
  const release = path.join(scratch, name, 'Release');
  const linked: string[] = [];
  for (const [i, o] of objects.entries()) {
    const dir = path.join(release, 'obj.target', o.target);
    mkdirSync(dir, { recursive: true });
    const src = path.join(dir, `f${i}.cc`);
    writeFileSync(src, o.source);
    const obj = path.join(dir, `f${i}.o`);
    run('g++', ['-std=c++17', '-O3', '-fPIC', ...o.flags, '-c', src, '-o', obj], { cwd: scratch });
    linked.push(obj);
  }
  const addon = path.join(release, 'thinktree.node');
  run('g++', ['-shared', '-o', addon, ...linked], { cwd: scratch });
  return addon;
}

describe('checkPortability', () => {
  beforeAll(() => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'thinktree-portability-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test('flags an inline function whose AVX2 copy the linker kept for baseline callers', () => {
    // The ISA object comes first on the link line, so its copy of SumSquares wins.
    const addon = fakeRelease('odr', [
      { target: 'tt_isa_avx2', source: isaSource, flags: ['-mavx2'] },
      { target: 'thinktree', source: baselineSource, flags: [] },
    ]);
    const problems = check(addon);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('_Z10SumSquaresPKim has AVX code but baseline objects define it too');
  });

  test('accepts AVX2 code that only ISA objects define', () => {
    const addon = fakeRelease('clean', [
      { target: 'thinktree', source: plainSource, flags: [] },
      { target: 'tt_isa_avx2', source: isaSource, flags: ['-mavx2'] },
    ]);
    expect(check(addon)).toEqual([]);
  });

  test('flags a baseline file compiled with AVX flags', () => {
    const addon = fakeRelease('flags', [
      { target: 'thinktree', source: plainSource, flags: ['-mavx2'] },
      { target: 'tt_isa_avx2', source: isaSource, flags: ['-mavx2'] },
    ]);
    expect(check(addon)).toEqual([expect.stringContaining('_Z5PlainPKii has AVX code but no ISA object defines it')]);
  });

  test.skipIf(!existsSync(path.join(repoRoot, 'build', 'Release', 'thinktree.node')))(
    'the repo build of the addon keeps AVX code in its ISA objects',
    () => {
      expect(check(path.join(repoRoot, 'build', 'Release', 'thinktree.node'))).toEqual([]);
    },
  );
});
