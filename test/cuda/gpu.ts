// Whether this machine can run the CUDA tests, decided once: the built library, a driver and a GPU.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { probeCuda } from '../../lib/native/cuda.js';
import type { CudaProbeResult } from '../../lib/native/addon-types.js';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** Where `npm run build:cuda` puts the library. */
export const BUILT_LIB = path.join(ROOT, 'build-cuda', 'libthinktree_cuda.so');

export const probe: CudaProbeResult = probeCuda();
export const gpu = probe.available;
/** Why GPU tests are skipped here (used as a visible skipped test's title). */
export const gpuSkipReason = gpu ? '' : `GPU tests skipped: ${probe.reason ?? 'no usable GPU'}`;

function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const hasNvcc = onPath('nvcc') || existsSync('/usr/local/cuda/bin/nvcc');
export const hasGxx = onPath('g++');

/** mulberry32, seeded: reproducible random inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n uniform values in [-scale, scale). */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * r() - 1) * scale;
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
