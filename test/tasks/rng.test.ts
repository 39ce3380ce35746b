import { describe, expect, it } from 'vitest';
import { Rng, deriveSeed } from '../../lib/tasks/arithmetic/rng.js';

// Known answers from the reference C code of splitmix64 and xoshiro128** (prng.di.unimi.it), compiled
// with gcc: state words = low and high halves of two splitmix64 outputs of the seed.
const KNOWN: Array<[bigint, number[]]> = [
  [0n, [3737715805, 2584255861, 2876756834, 3286328325, 1553311962, 1625202774]],
  [42n, [1776835114, 4165204688, 17111135, 2317295270, 2792088233, 2554630222]],
  [18446744073709551615n, [477689756, 2493998634, 555695776, 607808419, 61340979, 301466976]],
];

function take(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.nextUint32());
}

describe('Rng', () => {
  it.each(KNOWN)('matches the C reference of splitmix64-seeded xoshiro128** for seed %s', (seed, expected) => {
    expect(take(new Rng(seed), expected.length)).toEqual(expected);
  });

  it('accepts a number seed and a bigint seed with the same value as the same stream', () => {
    expect(take(new Rng(42), 8)).toEqual(take(new Rng(42n), 8));
  });

  it('rejects negative, fractional and too-large seeds', () => {
    expect(() => new Rng(-1)).toThrow(TypeError);
    expect(() => new Rng(1.5)).toThrow(TypeError);
    expect(() => new Rng(1n << 64n)).toThrow(TypeError);
  });

  it('draws int(lo, hi) uniformly over the closed range', () => {
    const rng = new Rng(7);
    const counts = new Array<number>(7).fill(0);
    const draws = 70_000;
    let outside = 0;
    for (let i = 0; i < draws; i++) {
      const x = rng.int(3, 9);
      if (x >= 3 && x <= 9 && Number.isInteger(x)) counts[x - 3]++;
      else outside++;
    }
    expect(outside).toBe(0);
    // Chi-square with 6 degrees of freedom: 22.46 is the 0.999 quantile.
    const expected = draws / 7;
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(22.46);
  });

  it('returns values in [0, 1) from nextFloat', () => {
    const rng = new Rng(3);
    const xs = Array.from({ length: 10_000 }, () => rng.nextFloat());
    expect(xs.filter((x) => !(x >= 0 && x < 1))).toEqual([]);
  });

  it('draws weighted indices in proportion to their weights and never a zero weight', () => {
    const rng = new Rng(11);
    const weights = [1, 0, 3, 6];
    const counts = [0, 0, 0, 0];
    const draws = 50_000;
    for (let i = 0; i < draws; i++) counts[rng.weighted(weights)]++;
    expect(counts[1]).toBe(0);
    expect(counts[0] / draws).toBeCloseTo(0.1, 1);
    expect(counts[2] / draws).toBeCloseTo(0.3, 1);
    expect(counts[3] / draws).toBeCloseTo(0.6, 1);
  });

  it('derives different seeds for different tags and the same seed for the same tags', () => {
    expect(deriveSeed(5, 1, 2)).toBe(deriveSeed(5, 1, 2));
    expect(deriveSeed(5, 1, 2)).not.toBe(deriveSeed(5, 2, 1));
    expect(deriveSeed(5, 1)).not.toBe(deriveSeed(6, 1));
  });
});
