// What a from-source build of the CPU addon needs on PATH, checked before node-gyp runs so that a
// missing tool is named in one sentence instead of buried in a gyp stack trace.
import { findOnPath, isFile } from './paths.mjs';

/** The tools node-gyp needs that `env` lacks, each as a phrase for a user ("a C++ compiler (g++ or clang++)"). */
export function missingBuildTools(env = process.env) {
  const missing = [];
  if (!hasCxx(env)) missing.push('a C++ compiler (g++ or clang++)');
  if (findOnPath(['make', 'gmake'], env.PATH) === null) missing.push('make');
  if (!hasPython(env)) missing.push('python3');
  return missing;
}

function hasCxx(env) {
  // CXX may carry flags ("ccache g++"); its first word is the program.
  const cxx = (env.CXX ?? '').trim().split(/\s+/)[0];
  if (cxx) return cxx.includes('/') ? isFile(cxx) : findOnPath([cxx], env.PATH) !== null;
  return findOnPath(['g++', 'c++', 'clang++'], env.PATH) !== null;
}

function hasPython(env) {
  // node-gyp's own search order: --python / npm_config_python, PYTHON, then python3 and python on PATH.
  for (const configured of [env.npm_config_python, env.PYTHON]) {
    if (configured) return configured.includes('/') ? isFile(configured) : findOnPath([configured], env.PATH) !== null;
  }
  return findOnPath(['python3', 'python'], env.PATH) !== null;
}
