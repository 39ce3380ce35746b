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
  /** For `'cuda'`: the library and device the native load opens (NativeModelSpec.device). */
  native?: { libraryPath: string; index: number };
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
  if (d === undefined) return 'a GPU';
  // The emulator library (build-cuda-emu, tests only) names its device; say plainly what it is.
  const emulated = /emulator/i.test(d.name) ? ', an emulated device that runs the CUDA kernels on the CPU, slowly' : '';
  return `${d.name} (compute ${d.computeCapability}${emulated})`;
}

/**
 * Picks the device for a model. `'cpu'` always works. `'auto'` and `'cuda'` take the first supported
 * GPU of the first library that finds one; `'cuda'` without a usable library, driver and GPU throws
 * DeviceUnavailableError naming the reason, `'auto'` then runs on the CPU and says why.
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
  const index = cuda.devices.findIndex((d) => d.supported);
  const why = requested === 'cuda' ? "device 'cuda' was requested" : `device 'auto' found a usable GPU`;
  return {
    device: 'cuda',
    reason: `${why}: running on ${gpuName(cuda)} through ${cuda.libraryPath}`,
    cuda,
    native: { libraryPath: cuda.libraryPath, index },
  };
}
