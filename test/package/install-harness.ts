// Shared steps of the package tests: pack this repo, install the tarball into an empty project under a
// chosen PATH, and run a greedy generation there and in the repo for comparison.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixtureModel = path.join(repoRoot, 'test', 'fixtures', 'tiny', 'llama-f32');
export const prompt = 'the cat sat';
export const maxTokens = 12;

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; throws with its whole output when it fails and `allowFailure` is not set. */
export function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; allowFailure?: boolean }): RunResult {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const result = { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (!opts.allowFailure && (r.error !== undefined || r.status !== 0)) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/** npm's own entry script, so that npm runs under any PATH we hand it. */
export const npmCli = realpathSync(
  (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'npm')).find((p) => existsSync(p)) ?? 'npm',
);

export function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): RunResult {
  return run(process.execPath, [npmCli, ...args], { cwd, env, allowFailure: true });
}

/**
 * Serialises the steps that read or write the repo (tsc into dist/, the prebuild copy, npm pack), since
 * vitest runs the package test files in parallel processes. mkdir is atomic, so it is the lock.
 */
export function withRepoLock<T>(fn: () => T): T {
  const lock = path.join(repoRoot, 'build', '.package-test.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${lock} held for 10 minutes; remove it if no test is running`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** dist/ compiled from the current lib/ (what `prepare` does before a real pack). Call under the repo lock. */
function ensureDist(): void {
  const marker = path.join(repoRoot, 'dist', 'index.js');
  if (existsSync(marker) && statSync(marker).mtimeMs >= newestMtime(path.join(repoRoot, 'lib'))) return;
  run(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: repoRoot });
}

export const prebuiltAddon = path.join(repoRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'node.napi.glibc.node');

/** `copy` exists and is not older than `source` (or there is no local `source` to compare with). */
function copyIsFresh(source: string, copy: string): boolean {
  if (!existsSync(source)) return true;
  return existsSync(copy) && statSync(source).mtimeMs <= statSync(copy).mtimeMs;
}

/** prebuilds/ holds copies of the current local builds: the addon, and the CUDA library if one was built. */
function prebuildIsFresh(): boolean {
  const dir = path.dirname(prebuiltAddon);
  return (
    existsSync(prebuiltAddon) &&
    copyIsFresh(path.join(repoRoot, 'build', 'Release', 'thinktree.node'), prebuiltAddon) &&
    copyIsFresh(path.join(repoRoot, 'build-cuda', 'libthinktree_cuda.so'), path.join(dir, 'libthinktree_cuda.so'))
  );
}

/**
 * Packs the repo into `destDir` and returns the tarball's path. With `withPrebuilds`, first makes sure
 * prebuilds/ holds the current addon (`prebuild.mjs --reuse-build`: copies build/Release when it is newer,
 * compiles only if there is none); without, the tarball is repacked with prebuilds/ removed.
 */
export function packRepo(destDir: string, withPrebuilds: boolean): string {
  const tarball = withRepoLock(() => {
    ensureDist();
    if (withPrebuilds && !prebuildIsFresh()) {
      run(process.execPath, [path.join(repoRoot, 'tools', 'prebuild', 'prebuild.mjs'), '--reuse-build'], { cwd: repoRoot });
    }
    // Scripts off: dist/ is fresh (above), and prepare's tsc must not race another test file's pack.
    const r = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', destDir], repoRoot);
    if (r.status !== 0) throw new Error(`npm pack failed\n${r.stdout}\n${r.stderr}`);
    return path.join(destDir, (JSON.parse(r.stdout) as { filename: string }[])[0].filename);
  });
  if (withPrebuilds) return tarball;

  const unpacked = path.join(destDir, 'unpacked');
  mkdirSync(unpacked);
  run('tar', ['-xzf', tarball, '-C', unpacked], { cwd: destDir });
  rmSync(path.join(unpacked, 'package', 'prebuilds'), { recursive: true, force: true });
  rmSync(tarball);
  const r = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', destDir], path.join(unpacked, 'package'));
  if (r.status !== 0) throw new Error(`npm pack (no prebuilds) failed\n${r.stdout}\n${r.stderr}`);
  return path.join(destDir, (JSON.parse(r.stdout) as { filename: string }[])[0].filename);
}

/** A folder of symlinks to just these programs (resolved on the current PATH): a PATH with nothing else. */
export function toolBin(dir: string, programs: string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const program of programs) {
    const found = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, program)).find((p) => existsSync(p));
    if (found === undefined) throw new Error(`${program} is not on PATH`);
    symlinkSync(realpathSync(found), path.join(dir, program));
  }
  return dir;
}

/** The environment of a user's shell: ours minus what npm or vitest added for this run. */
export function userEnv(PATH: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|INIT_CWD|VITEST|NODE_OPTIONS|CUDACXX|CXX|CC)/i.test(k)) continue;
    env[k] = v;
  }
  env.PATH = PATH;
  return env;
}

export function tempDir(label: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `thinktree-${label}-`));
}

/**
 * Installs `tarball` into a new empty project (dependencies from the npm cache when it has them) and
 * returns the project folder and npm's output, install script lines included.
 */
export function installTarball(
  parent: string,
  tarball: string,
  env: NodeJS.ProcessEnv,
  extraFlags: string[] = [],
): { project: string; install: RunResult } {
  const project = path.join(parent, 'project');
  mkdirSync(project, { recursive: true });
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'thinktree-install-check', private: true, type: 'module' }));
  const install = npm(['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', ...extraFlags], project, env);
  return { project, install };
}

// Loads the model through a module specifier ('thinktree' in the project, dist/index.js in the repo)
// and prints the greedy continuation plus where node-gyp-build found the addon.
const GENERATE = `
const [spec, modelDir, prompt, maxTokens] = process.argv.slice(2);
const { loadModel } = await import(spec);
const model = await loadModel(modelDir, { threads: 1 });
const out = await model.generate(prompt, { maxTokens: Number(maxTokens), temperature: 0 });
console.log(JSON.stringify({ text: out.text, tokens: Array.from(out.tokens), device: model.info.device }));
model.dispose();
`;

export interface Generation {
  text: string;
  tokens: number[];
  device: string;
}

/** Greedy generation through the package API, importing `spec` from a script in `cwd`. */
export function generateWith(cwd: string, spec: string, env: NodeJS.ProcessEnv): Generation {
  const script = path.join(cwd, 'generate.mjs');
  writeFileSync(script, GENERATE);
  const r = run(process.execPath, [script, spec, fixtureModel, prompt, String(maxTokens)], { cwd, env });
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as Generation;
}

/** The repo's own build (dist/ and its local addon) on the same prompt: the expected output. */
export function referenceGeneration(scratch: string): Generation {
  return generateWith(scratch, path.join(repoRoot, 'dist', 'index.js'), process.env);
}

/** `thinktree run` through `command` (the installed bin shim, or node with the repo's dist/cli/main.js). */
export function cliRun(cwd: string, command: string[], env: NodeJS.ProcessEnv): RunResult {
  const [cmd, ...lead] = command;
  return run(cmd, [...lead, 'run', '--model', fixtureModel, '--max-tokens', String(maxTokens), '--threads', '1', prompt], { cwd, env });
}

export const repoCli = [process.execPath, path.join(repoRoot, 'dist', 'cli', 'main.js')];

/** Programs a from-source build would use; none may be reachable on the "no compiler" PATH. */
export const compilerPrograms = ['g++', 'gcc', 'cc', 'c++', 'clang', 'clang++', 'make', 'nvcc', 'python3'];

export function onPath(program: string, PATH: string): boolean {
  return PATH.split(path.delimiter).some((d) => d !== '' && existsSync(path.join(d, program)));
}
