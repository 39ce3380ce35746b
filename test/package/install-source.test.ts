// Without a prebuilt binary, `npm install` compiles the CPU addon with node-gyp and says so; without
// the tools for that, it fails naming what is missing. nvcc is kept off PATH here: the CUDA build is
// minutes long and has its own CI step (npm run build:cuda).
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  generateWith,
  installTarball,
  onPath,
  packRepo,
  referenceGeneration,
  tempDir,
  toolBin,
  userEnv,
  type RunResult,
} from './install-harness.js';

const target = `${process.platform}-${process.arch}`;
let scratch: string;
let tarball: string;

beforeAll(() => {
  scratch = tempDir('source');
  tarball = packRepo(scratch, false);
}, 120_000);

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe('npm install of a tarball without prebuilds, compilers on PATH', () => {
  let project: string;
  let install: RunResult;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    // The user's PATH minus every folder holding nvcc; node and npm stay reachable through a tool bin.
    const bin = toolBin(path.join(scratch, 'bin-build'), ['node', 'npm', 'npx', 'sh']);
    const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== '' && !onPath('nvcc', d));
    env = userEnv([bin, ...dirs].join(path.delimiter));
    ({ project, install } = installTarball(path.join(scratch, 'with-compiler'), tarball, env));
  }, 600_000);

  test('install compiles the addon with node-gyp and says why', () => {
    expect(install.status, install.stdout + install.stderr).toBe(0);
    expect(install.stdout).toContain(`thinktree: no prebuilt binary for ${target}/glibc (N-API); building from source with node-gyp`);
    expect(install.stdout).toContain('thinktree: built build/Release/thinktree.node from source');
    expect(existsSync(path.join(project, 'node_modules', 'thinktree', 'build', 'Release', 'thinktree.node'))).toBe(true);
  });

  test('install says the GPU path is unavailable when nvcc is not on PATH', () => {
    expect(install.stdout).toMatch(/thinktree: .*no nvcc on PATH.*; the GPU path is unavailable and the CPU is used/);
  });

  test('greedy generation with the addon built at install equals the repo build', () => {
    const got = generateWith(project, 'thinktree', env);
    expect(got.tokens.length).toBeGreaterThan(0);
    expect(got).toEqual(referenceGeneration(scratch));
  });
});

describe('npm install of a tarball without prebuilds and without compilers', () => {
  let install: RunResult;

  beforeAll(() => {
    const env = userEnv(toolBin(path.join(scratch, 'bin-bare'), ['node', 'npm', 'npx', 'sh']));
    ({ install } = installTarball(path.join(scratch, 'no-compiler'), tarball, env));
  }, 240_000);

  test('install fails and names the missing C++ compiler, make and python3', () => {
    expect(install.status).not.toBe(0);
    expect(install.stdout + install.stderr).toContain(
      'thinktree: cannot build the native addon: a C++ compiler (g++ or clang++), make, python3 not found on PATH',
    );
  });
});
