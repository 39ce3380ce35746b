#!/usr/bin/env node
// `npm run prebuild`: builds the binaries `npm pack` ships in prebuilds/<platform>-<arch>/ so that users
// install without a compiler.
//   - the CPU addon (node-gyp, N-API, portable x86-64 baseline with per-ISA objects chosen at run time),
//     copied under the name node-gyp-build looks for;
//   - the CUDA library, when package.json has a build:cuda script and nvcc is on PATH (else one line).
// Options: --reuse-build copies what is already built instead of compiling (the package tests use it:
// the addon is compiled only when build/Release has none, the CUDA library only copied when a local
// build exists); --no-cuda skips the CUDA library.
// prebuilds/ is a build output: it is ignored by git and made fresh before `npm pack`.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { checkPortability, requiredRuntimeVersions } from './portability.mjs';
import {
  ADDON_PREBUILD_NAME,
  CUDA_LIBRARY_NAME,
  findNvcc,
  isFile,
  localCudaLibraryCandidates,
  nodeGypCommand,
  npmCommand,
  packageRoot,
  prebuildDir,
} from './paths.mjs';

const args = new Set(process.argv.slice(2));
const say = (line) => console.log(`prebuild: ${line}`);
const rel = (p) => path.relative(packageRoot, p);

function fail(message) {
  console.error(`prebuild: ${message}`);
  process.exit(1);
}

function run(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { cwd: packageRoot, stdio: 'inherit' });
  if (r.status !== 0) fail(`${path.basename(cmd)} ${cmdArgs.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

const outDir = prebuildDir();
const builtAddon = path.join(packageRoot, 'build', 'Release', 'thinktree.node');

// CPU addon
if (!(args.has('--reuse-build') && isFile(builtAddon))) {
  const gyp = nodeGypCommand();
  if (gyp === null) fail('node-gyp not found; run this as `npm run prebuild`');
  const [cmd, ...lead] = gyp;
  run(cmd, [...lead, 'rebuild', '--release', '-j', 'max']);
}
if (!isFile(builtAddon)) fail(`node-gyp did not produce ${rel(builtAddon)}`);
const problems = checkPortability(builtAddon);
if (problems.length > 0) fail(`${rel(builtAddon)} is not safe to ship to other machines:\n  ${problems.join('\n  ')}`);
const needs = requiredRuntimeVersions(builtAddon);
say(`the addon needs glibc >= ${needs.glibc} and libstdc++ with GLIBCXX_${needs.glibcxx} on the target machine`);
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const addonOut = path.join(outDir, ADDON_PREBUILD_NAME);
copyFileSync(builtAddon, addonOut);
say(`${rel(addonOut)} (from ${rel(builtAddon)})`);

// CUDA library
const scripts = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')).scripts ?? {};
if (args.has('--no-cuda')) {
  say('--no-cuda: CUDA library skipped');
} else if (scripts['build:cuda'] === undefined) {
  say('no build:cuda script in package.json: CUDA library skipped');
} else if (findNvcc() === null) {
  say('nvcc is not on PATH (nor CUDACXX): CUDA library skipped; this prebuild serves CPU only');
} else {
  if (!args.has('--reuse-build')) {
    const npm = npmCommand();
    if (npm === null) fail('npm not found to run build:cuda');
    const [cmd, ...lead] = npm;
    run(cmd, [...lead, 'run', 'build:cuda']);
  }
  const built = localCudaLibraryCandidates().find(isFile);
  if (built !== undefined) {
    const cudaOut = path.join(outDir, CUDA_LIBRARY_NAME);
    copyFileSync(built, cudaOut);
    say(`${rel(cudaOut)} (from ${rel(built)})`);
  } else if (args.has('--reuse-build')) {
    say('--reuse-build and no local CUDA build: CUDA library skipped');
  } else {
    fail(`build:cuda finished but left no ${CUDA_LIBRARY_NAME} in ${localCudaLibraryCandidates().map(rel).join(', ')}`);
  }
}
