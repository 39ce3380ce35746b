// Vitest global setup: builds the CUDA emulator library (native/cuda/emu/build.mjs, the CUDA kernel
// sources compiled by g++ against a CPU emulation of CUDA) when it is missing or older than any native
// source it is made from, so that `npm test` always runs the CUDA kernel and model suites
// (test/cuda/*.emu.test.ts) instead of skipping them. Without g++ the build is skipped and those suites
// say why they skip.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LIB = path.join(ROOT, 'build-cuda-emu', 'libthinktree_cuda_emu.so');
// Everything the emulator build reads: the CUDA sources and every header they can include.
const INPUTS = ['native/cuda', 'native/kernels/cuda', 'native/kernels/common', 'native/include', 'native/sources.json'];

function newestInput(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const e of readdirSync(p)) newest = Math.max(newest, newestInput(path.join(p, e)));
  return newest;
}

function haveGxx(): boolean {
  try {
    execFileSync('g++', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default function setup(): void {
  const newest = Math.max(...INPUTS.map((p) => newestInput(path.join(ROOT, p))));
  if (existsSync(LIB) && statSync(LIB).mtimeMs >= newest) return;
  if (!haveGxx()) {
    console.warn('test setup: g++ not found, the CUDA emulator library is not built (test/cuda/*.emu.test.ts skip)');
    return;
  }
  const started = Date.now();
  execFileSync(process.execPath, [path.join(ROOT, 'native', 'cuda', 'emu', 'build.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`test setup: built the CUDA emulator library in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
