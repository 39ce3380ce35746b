#!/usr/bin/env node
// npm run test:asan: builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer into
// build-asan/ (the normal build/ stays as it is) and runs test files against that build. Any report
// fails the run: ASan stops at its first error, and UBSan is told to (halt_on_error).
//
//   node tools/asan/run.mjs                 build, then run test/native and test/models
//   node tools/asan/run.mjs test/native     build, then run the given test files or folders
//   ASAN_SKIP_BUILD=1 node tools/asan/run.mjs ...   reuse build-asan/ as it is
//
// Node itself is not instrumented, so the sanitizer runtimes are preloaded into every node process
// (LD_PRELOAD; vitest's workers and the tests' child processes inherit it), and LeakSanitizer is off:
// V8 and node keep allocations until exit that it would report. THINKTREE_ADDON_DIR points
// lib/native/load.ts (and the tests' child processes) at build-asan/.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = path.join(root, 'build-asan');
const targets = process.argv.slice(2);
const files = targets.length > 0 ? targets : ['test/native', 'test/models'];

/** The gcc runtime library `name` (libasan.so, libubsan.so), as the compiler that builds the addon finds it. */
function runtime(name) {
  const cxx = process.env.CXX ?? 'g++';
  const p = execFileSync(cxx, [`-print-file-name=${name}`], { encoding: 'utf8' }).trim();
  if (!path.isAbsolute(p) || !existsSync(p)) throw new Error(`${cxx} has no ${name} (install the compiler's sanitizer runtimes)`);
  return p;
}

function build() {
  // build-asan/ holds binding.gyp and links to the sources, so node-gyp's build/ lands inside it.
  mkdirSync(out, { recursive: true });
  copyFileSync(path.join(root, 'binding.gyp'), path.join(out, 'binding.gyp'));
  for (const link of ['native', 'node_modules']) {
    if (!existsSync(path.join(out, link))) symlinkSync(path.join(root, link), path.join(out, link));
  }
  // -O1 keeps stacks readable and the run fast enough; the sanitizers' checks are what matter here.
  const flags = '-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined';
  // npm's own node-gyp (npm run sets npm_config_node_gyp), as the install script builds with.
  const bundled = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const gyp = [process.env.npm_config_node_gyp, bundled].find((p) => p !== undefined && existsSync(p));
  const nodeGyp = gyp !== undefined ? [gyp] : [createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js')];
  const nodedir = process.env.npm_config_nodedir ?? (existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined);
  const args = [...nodeGyp, 'rebuild', `-j`, String(process.env.JOBS ?? 2), ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  const r = spawnSync(process.execPath, args, {
    cwd: out,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, CFLAGS: flags, CXXFLAGS: flags, LDFLAGS: '-fsanitize=address,undefined' },
  });
  if (r.status !== 0) throw new Error(`the sanitizer build failed (node-gyp exited with ${r.status})`);
}

const t0 = Date.now();
if (process.env.ASAN_SKIP_BUILD !== '1') build();
const built = Date.now();
console.log(`asan: addon built in ${Math.round((built - t0) / 1000)} s; running ${files.join(' ')}`);

const env = {
  ...process.env,
  LD_PRELOAD: [runtime('libasan.so'), runtime('libubsan.so'), process.env.LD_PRELOAD].filter(Boolean).join(':'),
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1',
  UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
  THINKTREE_ADDON_DIR: out,
};
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', ...files], { cwd: root, stdio: 'inherit', env });
console.log(`asan: tests ran in ${Math.round((Date.now() - built) / 1000)} s (exit ${r.status ?? r.signal})`);
process.exit(r.status ?? 1);
