// Whether this machine can run the CUDA tests, decided once: the built library, a driver and a GPU.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { probeCuda } from '../../lib/native/cuda.js';
import type { CudaProbeResult } from '../../lib/native/addon-types.js';
import { rng } from '../helpers/tiny-model.js';

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

export { rng };

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
