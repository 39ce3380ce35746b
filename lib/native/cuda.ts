/**
 * Finding, probing and choosing the CUDA backend (issue 7). The library (libthinktree_cuda.so, built
 * by `npm run build:cuda` where nvcc exists, or shipped prebuilt) is loaded at run time by the CPU
 * addon, which never links CUDA; this module decides which file to load and which device a model
 * runs on, and says why.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OptionError } from '../errors.js';
import type { CudaProbeResult, NativeAddon } from './addon-types.js';
import { nativeAddon } from './load.js';

/** Where a model runs. `'auto'` picks the GPU where one is usable, else the CPU. */
export type DeviceRequest = 'auto' | 'cpu' | 'cuda';

/** `device: 'cuda'` was asked for and cannot be served; the message says why and what to do. */
export class DeviceUnavailableError extends OptionError {
  override name = 'DeviceUnavailableError';
}

export interface DeviceChoice {
  device: 'cpu' | 'cuda';
  /** One sentence: why this device. */
  reason: string;
  /** The probe behind the choice (absent for an explicit `'cpu'`). */
  cuda?: CudaProbeResult;
}

/** Library file name on this platform; the CUDA backend is built for Linux only. */
const LIB_NAME = 'libthinktree_cuda.so';

// dist/native/cuda.js and lib/native/cuda.ts both sit two levels below the package root.
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Candidate library paths in load order: `THINKTREE_CUDA_LIB` when set, the local builds
 * (`build-cuda/` from `npm run build:cuda`, `build/Release/` from cmake-js), then
 * `prebuilds/<platform>-<arch>/`.
 */
export function cudaLibraryCandidates(root: string = packageRoot): string[] {
  const out: string[] = [];
  const fromEnv = process.env.THINKTREE_CUDA_LIB;
  if (fromEnv !== undefined && fromEnv !== '') out.push(path.resolve(fromEnv));
  out.push(
    path.join(root, 'build-cuda', LIB_NAME),
    path.join(root, 'build', 'Release', LIB_NAME),
    path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, LIB_NAME),
  );
  return out;
}

const probes = new Map<string, CudaProbeResult>();

/** Probes one library file (cached per path: loading a CUDA runtime and the driver takes a while). */
export function probeCudaLibrary(libPath: string, addon: NativeAddon = nativeAddon()): CudaProbeResult {
  let r = probes.get(libPath);
  if (r === undefined) {
    try {
      r = addon.cuda.probe(libPath);
    } catch (err) {
      // An addon from before the CUDA surface, or a probe that threw: no GPU, said plainly.
      r = { libraryPath: libPath, available: false, reason: `probing ${libPath} failed: ${(err as Error).message}`, devices: [] };
    }
    probes.set(libPath, r);
  }
  return r;
}

/**
 * The CUDA backend as far as this machine goes: the first candidate library that exists and finds a
 * usable GPU, else the most telling reason why there is none (the first existing library's).
 */
export function probeCuda(candidates: string[] = cudaLibraryCandidates(), addon?: NativeAddon): CudaProbeResult {
  if (process.platform !== 'linux') {
    return { libraryPath: '', available: false, reason: `the CUDA backend is built for Linux only (this is ${process.platform})`, devices: [] };
  }
  const present = candidates.filter((p) => existsSync(p));
  if (present.length === 0) {
    return {
      libraryPath: '',
      available: false,
      reason:
        `no CUDA backend library was found (looked for ${candidates.join(', ')}); ` +
        'build it with `npm run build:cuda` (needs nvcc and cmake) or set THINKTREE_CUDA_LIB',
      devices: [],
    };
  }
  let first: CudaProbeResult | undefined;
  for (const p of present) {
    const r = probeCudaLibrary(p, addon);
    if (r.available) return r;
    first ??= r;
  }
  return first!;
}

function gpuName(r: CudaProbeResult): string {
  const d = r.devices.find((x) => x.supported);
  return d === undefined ? 'a GPU' : `${d.name} (compute ${d.computeCapability})`;
}

/**
 * Picks the device for a model. `'cpu'` always works. `'cuda'` without a usable library, driver and
 * GPU throws DeviceUnavailableError naming the reason. Whole-model execution on the GPU is not built
 * yet (the CUDA kernels exist; the GPU forward pass does not), so `'cuda'` with a GPU throws too,
 * saying so, and `'auto'` runs on the CPU and says why.
 */
export function chooseDevice(requested: DeviceRequest, candidates?: string[], addon?: NativeAddon): DeviceChoice {
  if (requested === 'cpu') return { device: 'cpu', reason: "device 'cpu' was requested" };
  const cuda = probeCuda(candidates, addon);
  if (!cuda.available) {
    if (requested === 'cuda') {
      throw new DeviceUnavailableError(
        `device 'cuda' was requested but the GPU cannot be used: ${cuda.reason}. Use device 'auto' or 'cpu' to run on the CPU.`,
      );
    }
    return { device: 'cpu', reason: `no usable GPU: ${cuda.reason}`, cuda };
  }
  const notBuilt =
    `whole-model execution on the GPU is not built yet in this version of thinktree ` +
    `(the CUDA kernels exist, the GPU forward pass does not)`;
  if (requested === 'cuda') {
    throw new DeviceUnavailableError(
      `device 'cuda' was requested and ${gpuName(cuda)} is usable, but ${notBuilt}. Use device 'auto' or 'cpu'.`,
    );
  }
  return { device: 'cpu', reason: `${gpuName(cuda)} is usable, but ${notBuilt}; running on the CPU`, cuda };
}
