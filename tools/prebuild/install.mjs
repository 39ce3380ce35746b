#!/usr/bin/env node
// The package's `install` script. Loading order for the CPU addon is node-gyp-build's: a local build
// (build/Release), then prebuilds/<platform>-<arch>/, else compile from source with node-gyp. Unlike
// node-gyp-build's own bin, it says which one happened and, when a build cannot start, names the
// missing tool. The CUDA library is optional: prebuilt, built here where nvcc is on PATH, or absent
// (then the CPU path is used and one line says so). A CUDA failure never fails the install.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { missingBuildTools } from './build-tools.mjs';
import { findCudaLibrary, findNvcc, findOnPath, nodeGypCommand, npmCommand, packageRoot } from './paths.mjs';

const require = createRequire(import.meta.url);
const target = `${process.platform}-${process.arch}`;
const say = (line) => console.log(`thinktree: ${line}`);
const rel = (p) => path.relative(packageRoot, p);

process.exitCode = installCpuAddon();
if (process.exitCode === 0) installCudaLibrary();

/** 0 when an addon that loads is in place (found or built), else node-gyp's exit code or 1. */
function installCpuAddon() {
  const forced = process.env.npm_config_build_from_source === 'true';
  if (!forced) {
    const found = loadableAddon();
    if (found.path !== undefined) {
      say(`using the native addon ${rel(found.path)}`);
      return 0;
    }
    if (found.loadError !== undefined) say(`the binary ${rel(found.candidate)} does not load here (${found.loadError})`);
    const which = found.loadError === undefined ? 'no prebuilt binary' : 'no prebuilt binary that loads';
    say(`${which} for ${target}/${libcName()} (N-API); building from source with node-gyp`);
  } else {
    say('--build-from-source: building the native addon with node-gyp');
  }

  const missing = missingBuildTools();
  const gyp = nodeGypCommand();
  if (gyp === null) missing.push('node-gyp (it ships with npm; run this through npm)');
  if (missing.length > 0) {
    say(`cannot build the native addon: ${missing.join(', ')} not found on PATH. Install ${missing.length > 1 ? 'them' : 'it'} ` +
      `(Debian/Ubuntu: apt-get install g++ make python3) and run \`npm rebuild thinktree\`.`);
    return 1;
  }
  const [cmd, ...lead] = gyp;
  const build = spawnSync(cmd, [...lead, 'rebuild', '--release', '-j', 'max'], { cwd: packageRoot, stdio: 'inherit' });
  if (build.status !== 0) {
    say(`node-gyp failed (exit ${build.status ?? build.signal}); the messages above say why. ` +
      'A from-source build needs a C++17 compiler, make, python3 and the Node.js headers (node-gyp downloads ' +
      'them, or set npm_config_nodedir).');
    return build.status || 1;
  }
  const built = loadableAddon();
  if (built.path === undefined) {
    say(`node-gyp finished but the addon does not load: ${built.loadError ?? 'no .node file in build/Release'}`);
    return 1;
  }
  say(`built ${rel(built.path)} from source`);
  return 0;
}

/** Where node-gyp-build finds the addon, and whether it actually loads (a prebuilt may need a newer glibc). */
function loadableAddon() {
  const load = require('node-gyp-build');
  let candidate;
  try {
    candidate = load.resolve(packageRoot);
  } catch {
    return {};
  }
  try {
    require(candidate);
    return { path: candidate };
  } catch (err) {
    return { candidate, loadError: String(err.message).split('\n')[0] };
  }
}

function libcName() {
  return process.env.LIBC || (process.report?.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl');
}

function installCudaLibrary() {
  if (process.env.THINKTREE_CUDA === 'off') {
    say('THINKTREE_CUDA=off: no CUDA library; the GPU path is unavailable and the CPU is used');
    return;
  }
  const existing = findCudaLibrary();
  if (existing !== null) {
    say(`using the CUDA library ${rel(existing)}`);
    return;
  }
  const unavailable = (why) => say(`${why}; the GPU path is unavailable and the CPU is used`);
  if (process.platform !== 'linux') return unavailable(`no CUDA library for ${target}`);
  if (findNvcc() === null) return unavailable(`no prebuilt CUDA library for ${target} and no nvcc on PATH (or CUDACXX) to build one`);
  const scripts = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')).scripts ?? {};
  if (scripts['build:cuda'] === undefined) return unavailable('this thinktree version has no CUDA build');
  if (findOnPath(['cmake']) === null) return unavailable('nvcc is on PATH but cmake is not, so the CUDA library cannot be built');
  const npm = npmCommand();
  if (npm === null) return unavailable('npm is not on PATH, so `npm run build:cuda` cannot run');
  say('no prebuilt CUDA library; building it with nvcc (npm run build:cuda)');
  const [cmd, ...lead] = npm;
  const build = spawnSync(cmd, [...lead, 'run', 'build:cuda'], { cwd: packageRoot, stdio: 'inherit' });
  const built = findCudaLibrary();
  if (build.status !== 0 || built === null) return unavailable(`the CUDA build failed (exit ${build.status ?? build.signal}, messages above)`);
  say(`built ${rel(built)} from source`);
}
