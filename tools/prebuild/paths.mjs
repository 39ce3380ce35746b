// Where thinktree's native artifacts live, shared by the install script (shipped in the tarball) and
// the prebuild script (repo only). Plain Node ESM with no dependencies: it runs before anything is built.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: this file sits in tools/prebuild/. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** prebuilds/<platform>-<arch>, the folder node-gyp-build searches. */
export function prebuildDir(root = packageRoot, platform = process.platform, arch = process.arch) {
  return path.join(root, 'prebuilds', `${platform}-${arch}`);
}

// node-gyp-build reads the tags between dots: `node` (runtime), `napi` (any Node ABI: the addon uses
// N-API only, so one binary serves Node 20, 22 and 24) and `glibc` (musl hosts must not pick it).
export const ADDON_PREBUILD_NAME = 'node.napi.glibc.node';

/** The CUDA backend library; the CPU addon dlopens it at run time and never links it. */
export const CUDA_LIBRARY_NAME = 'libthinktree_cuda.so';

/**
 * Local CUDA builds in the order lib/native/cuda.ts loads them: `npm run build:cuda` writes
 * build-cuda/, cmake-js writes build/Release/.
 */
export function localCudaLibraryCandidates(root = packageRoot) {
  return [path.join(root, 'build-cuda', CUDA_LIBRARY_NAME), path.join(root, 'build', 'Release', CUDA_LIBRARY_NAME)];
}

/** The CUDA library this package would load: a local build first, then the prebuilt one; null if none. */
export function findCudaLibrary(root = packageRoot) {
  const candidates = [...localCudaLibraryCandidates(root), path.join(prebuildDir(root), CUDA_LIBRARY_NAME)];
  return candidates.find(isFile) ?? null;
}

export function isFile(p) {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** First of `names` found as a file on `searchPath` (a PATH string), or null. */
export function findOnPath(names, searchPath = process.env.PATH ?? '') {
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === '') continue;
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (isFile(candidate)) return candidate;
    }
  }
  return null;
}

/**
 * nvcc from CUDACXX or PATH only. A toolkit that is installed but on neither is deliberately not
 * searched for: "nvcc is found" must mean what the user can see with `which nvcc`.
 */
export function findNvcc(env = process.env) {
  if (env.CUDACXX && isFile(env.CUDACXX)) return env.CUDACXX;
  return findOnPath(['nvcc'], env.PATH);
}

/**
 * How to run node-gyp: the copy npm hands to lifecycle scripts, a local dependency, npm's bundled
 * copy next to npm-cli.js, or one on PATH. Returns [command, ...leading args] or null.
 */
export function nodeGypCommand(env = process.env, root = packageRoot) {
  const scripts = [env.npm_config_node_gyp, path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
  if (env.npm_execpath) {
    scripts.push(path.join(path.dirname(env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  scripts.push(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const script = scripts.find((s) => s !== undefined && s.endsWith('.js') && existsSync(s));
  if (script !== undefined) return [process.execPath, script];
  const onPath = findOnPath(['node-gyp'], env.PATH);
  return onPath === null ? null : [onPath];
}

/** How to run npm itself from inside a script npm started (npm_execpath), else npm on PATH. */
export function npmCommand(env = process.env) {
  if (env.npm_execpath && env.npm_execpath.endsWith('.js') && existsSync(env.npm_execpath)) {
    return [process.execPath, env.npm_execpath];
  }
  const onPath = findOnPath(['npm'], env.PATH);
  return onPath === null ? null : [onPath];
}
