// Every CUDA kernel against its CPU twin on a real GPU. Runs only where a usable GPU, driver and built
// library exist; elsewhere one skipped test names the reason.
import { it } from 'vitest';
import { gpu, gpuSkipReason, probe } from './gpu.js';
import { cudaParitySuite } from './parity.js';

if (gpu) {
  const device = probe.devices.find((d) => d.supported)!;
  cudaParitySuite(`CUDA kernels vs their CPU twins on ${device.name}`, probe.libraryPath, device.index, false);
} else {
  it.skip(gpuSkipReason, () => {});
}
