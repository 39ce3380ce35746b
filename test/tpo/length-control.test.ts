import { describe, expect, it } from 'vitest';
import { lengthControlled, zScores } from '../../lib/tpo/length-control.js';

describe('length control', () => {
  it('z-scores with the population standard deviation', () => {
    // mean 2, variance (1 + 0 + 1) / 3 = 2/3, std 0.8164966
    const z = zScores([1, 2, 3]);
    expect(z[0]).toBeCloseTo(-1.2247449, 6);
    expect(z[1]).toBeCloseTo(0, 12);
    expect(z[2]).toBeCloseTo(1.2247449, 6);
  });

  it('gives zeros for equal values instead of dividing by zero', () => {
    expect(zScores([5, 5, 5])).toEqual([0, 0, 0]);
  });

  it('subtracts rho times the z-scored length from the z-scored score', () => {
    // scores [1, 1, 0, 0]: mean 0.5, std 0.5 → z [1, 1, -1, -1]
    // lengths [10, 30, 20, 20]: mean 20, std sqrt(50) = 7.0710678 → z [-1.4142136, 1.4142136, 0, 0]
    const out = lengthControlled([1, 1, 0, 0], [10, 30, 20, 20], 0.5);
    const want = [1 + 0.5 * 1.4142136, 1 - 0.5 * 1.4142136, -1, -1];
    out.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
  });

  it('can turn a long right answer into the rejected side when rho is large', () => {
    // Two right answers of very different lengths and one short wrong one.
    const out = lengthControlled([1, 1, 0], [10, 400, 12], 3);
    expect(out.indexOf(Math.min(...out))).toBe(1);
  });

  it('returns the scores unchanged at rho 0 and refuses a negative rho', () => {
    expect(lengthControlled([0.2, 0.9], [5, 50], 0)).toEqual([0.2, 0.9]);
    expect(() => lengthControlled([1], [1], -1)).toThrow(/lengthPenalty/);
    expect(() => lengthControlled([1, 2], [1], 1)).toThrow(/one length per score/);
  });
});
