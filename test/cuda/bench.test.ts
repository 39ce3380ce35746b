// The `cuda` section of `thinktree bench`: one line without a GPU; end to end on tiny shapes against
// the CPU emulator build (which checks the section's plumbing, not any timing).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchCuda, benchCudaModel } from '../../lib/cli/bench/cuda.js';
import { nativeAddon } from '../../lib/native/load.js';
import { ROOT } from './gpu.js';

const EMU_LIB = path.join(ROOT, 'build-cuda-emu', 'libthinktree_cuda_emu.so');

describe('cuda bench section', () => {
  it('prints one line naming the reason and returns null without a usable GPU', () => {
    const lines: string[] = [];
    const probe = { libraryPath: '', available: false, reason: 'no NVIDIA driver found', devices: [] };
    expect(benchCuda((l) => lines.push(l), { probe })).toBeNull();
    expect(lines).toEqual(['cuda: skipped (no NVIDIA driver found)']);
  });

  it.skipIf(!existsSync(EMU_LIB))('runs every shape end to end on the emulator build', () => {
    const lines: string[] = [];
    const res = benchCuda((l) => lines.push(l), { probe: nativeAddon().cuda.probe(EMU_LIB), small: true, seconds: 0 });
    expect(res).not.toBeNull();
    expect(res!.decode.map((r) => [r.batch, r.context])).toEqual([[1, 64], [2, 48]]);
    expect(res!.sampling).toHaveLength(4);
    const times = [...res!.decode.map((r) => r.seconds), res!.cascade.sharedSeconds, res!.cascade.perSequenceSeconds, ...res!.sampling.map((r) => r.seconds)];
    for (const t of times) expect(Number.isFinite(t) && t > 0).toBe(true);
    expect(lines[0]).toMatch(/^cuda: thinktree CUDA emulator \(CPU\)/);
  });

  it('skips the end-to-end model section with one line without a usable GPU', async () => {
    const lines: string[] = [];
    const probe = { libraryPath: '', available: false, reason: 'no NVIDIA driver found', devices: [] };
    expect(await benchCudaModel((l) => lines.push(l), { probe })).toBeNull();
    expect(lines).toEqual(['cuda model: skipped (no NVIDIA driver found)']);
  });

  it.skipIf(!existsSync(EMU_LIB))('runs the end-to-end decode and beam section on a tiny model on the emulator build', async () => {
    const lines: string[] = [];
    const res = await benchCudaModel((l) => lines.push(l), { probe: nativeAddon().cuda.probe(EMU_LIB), small: true, threads: 1 });
    expect(res).not.toBeNull();
    expect(res!.decode.map((r) => r.batch)).toEqual([1, 3]);
    for (const r of res!.decode) expect(r.cpuTokensPerSecond > 0 && r.cudaTokensPerSecond > 0).toBe(true);
    expect(res!.beam.cpuSecondsPerLevel > 0 && res!.beam.cudaSecondsPerLevel > 0).toBe(true);
    expect(lines[0]).toMatch(/^cuda model: tiny-shaped random BF16 model on thinktree CUDA emulator \(CPU\) vs the CPU backend/);
    expect(lines).toHaveLength(4);
  });
});
