// Whole-model execution on a real GPU against the CPU backend (the cases of model-cases.ts). Runs only
// where a usable GPU, driver and built library exist; elsewhere one skipped test names the reason.
import { it } from 'vitest';
import { gpu, gpuSkipReason, probe } from './gpu.js';
import { deviceModelSuite } from './model-cases.js';

if (gpu) {
  const device = probe.devices.find((d) => d.supported)!;
  deviceModelSuite(`whole model on ${device.name} vs the CPU backend`);
} else {
  it.skip(gpuSkipReason, () => {});
}
