// The CUDA backend library as the CPU addon loads it: built where nvcc exists, and every way loading
// or probing it can fail comes back as a sentence. These run on any machine; none needs a GPU.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCudaSession } from '../../lib/native/kernels.js';
import { nativeAddon } from '../../lib/native/load.js';
import { BUILT_LIB, gpu, hasGxx, hasNvcc } from './gpu.js';

const cuda = nativeAddon().cuda;

describe('CUDA library loading', () => {
  it.skipIf(!hasNvcc)('npm run build:cuda has built the library where nvcc exists', () => {
    expect(existsSync(BUILT_LIB)).toBe(true);
  });

  it('reports a missing library file as not loadable, naming the path', () => {
    const missing = path.join(os.tmpdir(), 'no-such-dir', 'libthinktree_cuda.so');
    const r = cuda.probe(missing);
    expect(r.available).toBe(false);
    expect(r.reason).toContain(`could not load the CUDA library at ${missing}`);
    expect(r.devices).toEqual([]);
  });

  it('refuses a shared library that is not a thinktree CUDA library', () => {
    const libm = ['/lib/x86_64-linux-gnu/libm.so.6', '/usr/lib/x86_64-linux-gnu/libm.so.6', '/lib64/libm.so.6'].find(existsSync);
    if (libm === undefined) return;  // no libm at a known path: nothing to load
    const r = cuda.probe(libm);
    expect(r.available).toBe(false);
    expect(r.reason).toBe(`the library at ${libm} is not a thinktree CUDA library (no tt_cuda_abi_version)`);
  });

  describe.skipIf(!hasGxx)('a library from another build', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tt-cuda-abi-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('is refused with the ABI versions and the rebuild command', () => {
      const src = path.join(dir, 'fake.c');
      const lib = path.join(dir, 'libfake_cuda.so');
      const other = cuda.abiVersion + 1;
      writeFileSync(src, `int tt_cuda_abi_version(void) { return ${other}; }\n`);
      execFileSync('g++', ['-x', 'c', '-shared', '-fPIC', '-o', lib, src]);
      const r = cuda.probe(lib);
      expect(r.available).toBe(false);
      expect(r.reason).toBe(
        `the CUDA library at ${lib} is from another thinktree build (ABI ${other}, expected ${cuda.abiVersion}); ` +
          'rebuild with npm run build:cuda',
      );
      expect(() => openCudaSession(lib, 0)).toThrow(/from another thinktree build/);
    });
  });

  describe.skipIf(gpu || !existsSync(BUILT_LIB))('the built library on a machine without a usable GPU', () => {
    it('loads, and reports no device with the reason', () => {
      const r = cuda.probe(BUILT_LIB);
      expect(r.available).toBe(false);
      expect(r.reason).toMatch(/NVIDIA driver|CUDA device|compute capability/);
      expect(r.runtimeVersion).toBeGreaterThanOrEqual(12000);
    });

    it('refuses to open a session, saying why', () => {
      expect(() => openCudaSession(BUILT_LIB, 0)).toThrow(/^CUDA backend: .*(NVIDIA driver|CUDA device|compute capability)/);
    });
  });
});
