/**
 * The addon's test surface with its types (kernel-types.ts): the kernels on typed arrays and CUDA
 * sessions, for parity tests and benchmarks. The product path never imports this file.
 */
import type { CudaSession, NativeCudaSessions, NativeKernels } from './kernel-types.js';
import { nativeAddon } from './load.js';

/** addon.kernels: cpuInfo() and the CPU kernels on typed arrays. */
export function nativeKernels(): NativeKernels {
  return nativeAddon().kernels as NativeKernels;
}

/** A session on CUDA device `device` of the library at `libPath` (addon.cuda.open). */
export function openCudaSession(libPath: string, device: number): CudaSession {
  return (nativeAddon().cuda as NativeCudaSessions).open(libPath, device);
}
