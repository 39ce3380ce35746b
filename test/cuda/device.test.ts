// Device selection: 'cpu' always, 'auto' falls back to the CPU and says why, 'cuda' without a usable
// GPU is a clear error (and in this version, with one too: the GPU forward pass is not built yet).
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

  it("throws for 'cuda' on this machine, with a reason", () => {
    const expected = gpu ? /whole-model execution on the GPU is not built yet/ : /the GPU cannot be used: /;
    expect(() => chooseDevice('cuda')).toThrow(expected);
  });

  it("runs 'auto' on the CPU on this machine and says why", () => {
    const c = chooseDevice('auto');
    expect(c.device).toBe('cpu');
    expect(c.reason).toMatch(gpu ? /is usable, but whole-model execution on the GPU is not built yet/ : /^no usable GPU: /);
  });
});

describe('loadModel device option', () => {
  it("rejects device 'cuda' with DeviceUnavailableError", async () => {
    await expect(loadModel(tinyDir, { ...small, device: 'cuda' })).rejects.toThrow(DeviceUnavailableError);
  });

  it("reports the CPU and the reason in info for device 'auto'", async () => {
    const model = await loadModel(tinyDir, { ...small, device: 'auto' });
    try {
      expect(model.info.device).toBe('cpu');
      expect(model.info.deviceReason).toMatch(gpu ? /not built yet; running on the CPU$/ : /^no usable GPU: /);
    } finally {
      model.dispose();
    }
  });

  it('rejects an unknown device name with an OptionError listing the choices', async () => {
    await expect(loadModel(tinyDir, { ...small, device: 'gpu' as 'cuda' })).rejects.toThrow(OptionError);
    await expect(loadModel(tinyDir, { ...small, device: 'gpu' as 'cuda' })).rejects.toThrow(/'auto', 'cpu' or 'cuda'/);
  });
});
