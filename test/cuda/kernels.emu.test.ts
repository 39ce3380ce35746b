// The CUDA kernel sources, built against the CPU emulator (native/cuda/emu, `npm run build:cuda-emu`),
// against their CPU twins: the kernels' logic runs here even without a GPU. Skips, naming the build
// command, when the emulator library has not been built.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { it } from 'vitest';
import { ROOT } from './gpu.js';
import { cudaParitySuite } from './parity.js';

const EMU_LIB = path.join(ROOT, 'build-cuda-emu', 'libthinktree_cuda_emu.so');

if (existsSync(EMU_LIB)) {
  cudaParitySuite('CUDA kernels (CPU emulator build) vs their CPU twins', EMU_LIB, 0, true);
} else {
  it.skip(`CUDA emulator tests skipped: ${EMU_LIB} is not built (npm run build:cuda-emu)`, () => {});
}
