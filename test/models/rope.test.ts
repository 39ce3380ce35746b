import { describe, expect, it } from 'vitest';
import { computeRope } from '../../lib/models/rope.js';

/** Relative closeness at float32 resolution (values are rounded to f32 by the implementation). */
function expectClose(got: Float32Array, want: number[]): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i] - w)).toBeLessThanOrEqual(Math.abs(w) * 2 ** -22));
}

describe('RoPE inverse frequencies', () => {
  it('are 1 and 1/100 for head_dim 4 and theta 10000 (exactly, in f32)', () => {
    const { invFreq } = computeRope({ headDim: 4, theta: 10000, scaling: { type: 'default' } });
    expect(Array.from(invFreq)).toEqual([1, Math.fround(0.01)]);
  });

  it('follow theta^(-2i/d) for head_dim 8', () => {
    const { invFreq, attentionScaling } = computeRope({ headDim: 8, theta: 10000, scaling: { type: 'default' } });
    expectClose(invFreq, [1, 0.1, 0.01, 0.001]);
    expect(attentionScaling).toBe(1);
  });

  it('use the float32-rounded exponent 2i/d, as torch computes it, for head_dim 6', () => {
    // 2/6 is not a float32; with theta 1e6 the rounding moves the result by ~3e-7 relative, more
    // than f32 resolution, so matching transformers means rounding the exponent first.
    const theta = 1_000_000;
    const { invFreq } = computeRope({ headDim: 6, theta, scaling: { type: 'default' } });
    expectClose(invFreq, [0, 2, 4].map((e) => 1 / theta ** Math.fround(e / 6)));
  });

  it('are divided by the factor under linear scaling', () => {
    const { invFreq } = computeRope({ headDim: 4, theta: 10000, scaling: { type: 'linear', factor: 4 } });
    expectClose(invFreq, [0.25, 0.0025]);
  });

  it('keep high frequencies, divide low ones, and interpolate the band between under llama3 scaling', () => {
    // head_dim 8, theta 1e4: frequencies 1, 0.1, 0.01, 0.001 with wavelengths 2π, 20π, 200π, 2000π.
    // Original context 1000 with low/high factors 1/4 puts the band edges at wavelengths 1000 and 250:
    // the first two keep their frequency, 200π ≈ 628 is in the band, 2000π is divided by the factor.
    const factor = 8;
    const { invFreq, attentionScaling } = computeRope({
      headDim: 8,
      theta: 10000,
      scaling: { type: 'llama3', factor, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 1000 },
    });
    const wavelen = (2 * Math.PI) / 0.01;
    const smooth = (1000 / wavelen - 1) / (4 - 1);
    const banded = (1 - smooth) * (0.01 / factor) + smooth * 0.01;
    expectClose(invFreq, [1, 0.1, banded, 0.001 / factor]);
    expect(attentionScaling).toBe(1);
  });

  it('reject an odd head_dim', () => {
    expect(() => computeRope({ headDim: 5, theta: 10000, scaling: { type: 'default' } })).toThrow(/positive even integer, got 5/);
  });
});
