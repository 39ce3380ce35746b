// The packed tarball installs and runs on a machine with node and npm but no compiler: the CPU addon
// comes from prebuilds/, dist/ is already compiled, and nothing is built.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  cliRun,
  compilerPrograms,
  generateWith,
  installTarball,
  onPath,
  packRepo,
  referenceGeneration,
  repoCli,
  tempDir,
  toolBin,
  userEnv,
  type Generation,
  type RunResult,
} from './install-harness.js';

let scratch: string;
let tarball: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  scratch = tempDir('prebuilt');
  tarball = packRepo(scratch, true);
  env = userEnv(toolBin(path.join(scratch, 'bin'), ['node', 'npm', 'npx', 'sh']));
}, 120_000);

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe('npm install of the packed tarball with no compiler on PATH', () => {
  let project: string;
  let install: RunResult;
  let installed: string;
  let reference: Generation;

  beforeAll(() => {
    ({ project, install } = installTarball(path.join(scratch, 'scripts-on'), tarball, env));
    installed = path.join(project, 'node_modules', 'thinktree');
    reference = referenceGeneration(scratch);
  }, 120_000);

  test('the PATH it installs under has node, npm and sh but no compiler, make, python3 or nvcc', () => {
    expect(onPath('node', env.PATH!) && onPath('npm', env.PATH!)).toBe(true);
    expect(compilerPrograms.filter((p) => onPath(p, env.PATH!))).toEqual([]);
  });

  test('install succeeds using the prebuilt addon and compiles nothing', () => {
    expect(install.status, install.stdout + install.stderr).toBe(0);
    expect(install.stdout).toContain(`thinktree: using the native addon prebuilds/${process.platform}-${process.arch}/node.napi.glibc.node`);
    expect(existsSync(path.join(installed, 'build'))).toBe(false);
  });

  test('install names the CUDA library it uses, or says the GPU path is unavailable', () => {
    const cudaLib = path.join(installed, 'prebuilds', `${process.platform}-${process.arch}`, 'libthinktree_cuda.so');
    expect(install.stdout).toContain(
      existsSync(cudaLib)
        ? `thinktree: using the CUDA library prebuilds/${process.platform}-${process.arch}/libthinktree_cuda.so`
        : 'the GPU path is unavailable and the CPU is used',
    );
  });

  test('the installed package runs from its shipped dist/ without typescript', () => {
    expect(existsSync(path.join(installed, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(path.join(project, 'node_modules', 'typescript'))).toBe(false);
  });

  test('greedy generation through the installed API equals the repo build', () => {
    const got = generateWith(project, 'thinktree', env);
    expect(got.tokens.length).toBeGreaterThan(0);
    expect(got).toEqual(reference);
  });

  test('thinktree run from the installed bin prints what the repo CLI prints', () => {
    const got = cliRun(project, [path.join(project, 'node_modules', '.bin', 'thinktree')], env);
    const want = cliRun(scratch, repoCli, process.env);
    expect(got.stdout).toBe(want.stdout);
    expect(got.stdout.trim().length).toBeGreaterThan(0);
  });
});

describe('npm install --ignore-scripts of the packed tarball', () => {
  test('the prebuilt addon still loads: the loader finds it at run time', () => {
    const { project, install } = installTarball(path.join(scratch, 'scripts-off'), tarball, env, ['--ignore-scripts']);
    expect(install.status, install.stdout + install.stderr).toBe(0);
    expect(install.stdout).not.toContain('thinktree:');
    expect(generateWith(project, 'thinktree', env)).toEqual(referenceGeneration(scratch));
  });
});
