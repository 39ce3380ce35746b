// Device selection: 'cpu' always, 'auto' takes a usable GPU or falls back to the CPU and says why,
// 'cuda' without a usable GPU is a clear error. (With THINKTREE_CUDA_LIB naming the emulator build,
// model.emu.test.ts covers the 'cuda' side on this machine.)
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OptionError } from '../../lib/errors.js';
import { loadModel } from '../../lib/models/model.js';
import { DeviceUnavailableError, chooseDevice } from '../../lib/native/cuda.js';
import { TINY_DIR } from '../helpers/reference-fixtures.js';
import { gpu } from './gpu.js';

const nowhere = [path.join(os.tmpdir(), 'tt-no-such-dir', 'libthinktree_cuda.so')];
const tinyDir = path.join(TINY_DIR, 'llama-f32');
const small = { threads: 1, kvCacheBytes: 1 << 20 };

describe('chooseDevice', () => {
  it("picks the CPU for 'cpu' without probing", () => {
    expect(chooseDevice('cpu', nowhere)).toEqual({ device: 'cpu', reason: "device 'cpu' was requested" });
  });

  it("falls back to the CPU for 'auto' when no library exists, saying so", () => {
    const c = chooseDevice('auto', nowhere);
    expect(c.device).toBe('cpu');
    expect(c.reason).toMatch(/^no usable GPU: no CUDA backend library was found .*npm run build:cuda/);
  });

  it("throws DeviceUnavailableError for 'cuda' when no library exists, naming the fix", () => {
    expect(() => chooseDevice('cuda', nowhere)).toThrow(DeviceUnavailableError);
    expect(() => chooseDevice('cuda', nowhere)).toThrow(
      /^device 'cuda' was requested but the GPU cannot be used: no CUDA backend library was found .*Use device 'auto' or 'cpu'/,
    );
  });

  it.skipIf(gpu)("throws for 'cuda' on a machine without a GPU, with a reason", () => {
    expect(() => chooseDevice('cuda')).toThrow(/the GPU cannot be used: /);
  });

  it.skipIf(!gpu)("picks the GPU for 'cuda' where one is usable, naming the library and device", () => {
    const c = chooseDevice('cuda');
    expect(c.device).toBe('cuda');
    expect(c.native).toEqual({ libraryPath: c.cuda!.libraryPath, index: expect.any(Number) });
    expect(c.reason).toMatch(/^device 'cuda' was requested: running on .* through /);
  });

  it("runs 'auto' where this machine can and says why", () => {
    const c = chooseDevice('auto');
    expect(c.device).toBe(gpu ? 'cuda' : 'cpu');
    expect(c.reason).toMatch(gpu ? /^device 'auto' found a usable GPU: running on / : /^no usable GPU: /);
  });
});

describe('loadModel device option', () => {
  it.skipIf(gpu)("rejects device 'cuda' with DeviceUnavailableError where no GPU is usable", async () => {
    await expect(loadModel(tinyDir, { ...small, device: 'cuda' })).rejects.toThrow(DeviceUnavailableError);
  });

  it("reports the device and the reason in info for device 'auto'", async () => {
    const model = await loadModel(tinyDir, { ...small, device: 'auto' });
    try {
      expect(model.info.device).toBe(gpu ? 'cuda' : 'cpu');
      expect(model.info.deviceReason).toMatch(gpu ? /^device 'auto' found a usable GPU/ : /^no usable GPU: /);
    } finally {
      model.dispose();
    }
  });

  it('exports DeviceUnavailableError from the package entry point', async () => {
    const index = await import('../../lib/index.js');
    expect(index.DeviceUnavailableError).toBe(DeviceUnavailableError);
  });

  it('rejects an unknown device name with an OptionError listing the choices', async () => {
    await expect(loadModel(tinyDir, { ...small, device: 'gpu' as 'cuda' })).rejects.toThrow(OptionError);
    await expect(loadModel(tinyDir, { ...small, device: 'gpu' as 'cuda' })).rejects.toThrow(/'auto', 'cpu' or 'cuda'/);
  });
});
