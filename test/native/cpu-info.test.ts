import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nativeAddon } from '../../lib/native/load.js';

describe('cpuInfo', () => {
  it('reports the same AVX2 support as /proc/cpuinfo', () => {
    const info = nativeAddon().kernels.cpuInfo();
    const flags = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? '';
    const has = (f: string) => flags.split(/\s+/).includes(f);
    expect(info.avx2).toBe(has('avx2') && has('fma') && has('f16c'));
    expect(info.avx512).toBe(info.avx2 && has('avx512f') && has('avx512bw') && has('avx512vl') && has('avx512dq'));
    expect(info.avx512bf16).toBe(info.avx512 && has('avx512_bf16'));
  });
});
