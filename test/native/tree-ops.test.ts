// Segmented selection kernels (kernels.segmentedTopK, kernels.sampleCandidates) against plain
// TypeScript references: exact top-k order, Gumbel-top-k keys from an independent Philox, and
// chi-square tests of the sampled orders against softmax (Plackett–Luce) probabilities.
import { describe, expect, it } from 'vitest';
import type { SegmentSelection } from '../../lib/native/addon-types.js';
import { nativeAddon } from '../../lib/native/load.js';
import { rng } from '../helpers/tiny-model.js';

const { segmentedTopK, sampleCandidates } = nativeAddon().kernels;

/** Scores cut into segments of the given lengths. */
function segmented(lengths: number[], value: (i: number) => number): { scores: Float32Array; offsets: Int32Array } {
  const offsets = new Int32Array(lengths.length + 1);
  lengths.forEach((n, s) => (offsets[s + 1] = offsets[s] + n));
  return { scores: Float32Array.from({ length: offsets[lengths.length] }, (_, i) => value(i)), offsets };
}

/** Segment s of a selection, as indices relative to the segment's first score. */
function picks(sel: SegmentSelection, segOffsets: Int32Array, s: number): number[] {
  return Array.from(sel.indices.subarray(sel.offsets[s], sel.offsets[s + 1]), (i) => i - segOffsets[s]);
}

/** Reference top-k: by score descending (NaN as −∞), ties to the lower index. */
function referenceTopK(scores: ArrayLike<number>, k: number): number[] {
  const key = (i: number) => (Number.isNaN(scores[i]) ? -Infinity : scores[i]);
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => (key(a) === key(b) ? a - b : key(b) - key(a)));
  return idx.slice(0, k);
}

/** Philox4x32-10 (Salmon et al. 2011), BigInt products; words least significant first. */
function philox(counter: number[], key: number[]): number[] {
  let [c0, c1, c2, c3] = counter;
  let [k0, k1] = key;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + 0x9e3779b9) >>> 0;
      k1 = (k1 + 0xbb67ae85) >>> 0;
    }
    const p0 = 0xd2511f53n * BigInt(c0);
    const p1 = 0xcd9e8d57n * BigInt(c2);
    const [hi0, lo0] = [Number(p0 >> 32n), Number(p0 & 0xffffffffn)];
    const [hi1, lo1] = [Number(p1 >> 32n), Number(p1 & 0xffffffffn)];
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  return [c0, c1, c2, c3];
}

/** The documented candidate key: score / T − log(−log u), u from Philox(counter, index, 0, "CAND"; seed). */
function referenceGumbelKey(score: number, t: number, seed: number, counter: number, index: number): number {
  if (Number.isNaN(score) || score === -Infinity) return -Infinity;
  const s = BigInt(seed);
  const w0 = philox([counter, index, 0, 0x43414e44], [Number(s & 0xffffffffn), Number(s >> 32n)])[0];
  const u = ((w0 >>> 9) * 2 + 1) / 2 ** 24;
  return score / t - Math.log(-Math.log(u));
}

function softmax(scores: number[], t: number): number[] {
  const m = Math.max(...scores);
  const e = scores.map((s) => Math.exp((s - m) / t));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

function chiSquare(observed: number[], expected: number[]): number {
  return observed.reduce((acc, o, i) => acc + (o - expected[i]) ** 2 / expected[i], 0);
}

/** `copies` identical segments of `scores`, one draw counter each, all with one seed. */
function repeatedDraws(scores: number[], copies: number, count: number, t: number, seed: number): { sel: SegmentSelection; offsets: Int32Array } {
  const { scores: flat, offsets } = segmented(new Array(copies).fill(scores.length), (i) => scores[i % scores.length]);
  const sel = sampleCandidates(
    flat,
    offsets,
    new Int32Array(copies).fill(count),
    t,
    new Float64Array(copies).fill(seed),
    Uint32Array.from({ length: copies }, (_, i) => i),
  );
  return { sel, offsets };
}

describe('segmentedTopK', () => {
  it('matches the reference order on random segments, empty and short ones included', () => {
    const r = rng(1);
    const lengths = [0, 1, 7, 33, 2, 111, 5, 0, 64];
    const k = Int32Array.of(3, 1, 7, 5, 9, 20, 0, 2, 64);
    const { scores, offsets } = segmented(lengths, () => Math.round((r() * 2 - 1) * 1000) / 100);
    const sel = segmentedTopK(scores, offsets, k);
    lengths.forEach((n, s) => {
      const seg = scores.subarray(offsets[s], offsets[s + 1]);
      expect(picks(sel, offsets, s)).toEqual(referenceTopK(seg, Math.min(k[s], n)));
    });
  });

  it('reports min(k, segment length) per segment in the offsets', () => {
    const { scores, offsets } = segmented([4, 0, 6, 3], (i) => i);
    const sel = segmentedTopK(scores, offsets, Int32Array.of(2, 5, 6, 10));
    expect(Array.from(sel.offsets)).toEqual([0, 2, 2, 8, 11]);
    expect(sel.indices.length).toBe(11);
  });

  it('breaks ties toward the lower index, -0 and +0 included', () => {
    const scores = Float32Array.of(1, 3, 3, -0, 1, 3, 0, 1);
    const sel = segmentedTopK(scores, Int32Array.of(0, 8), Int32Array.of(8));
    expect(Array.from(sel.indices)).toEqual([1, 2, 5, 0, 4, 7, 3, 6]);
  });

  it('ranks NaN as −∞: after every real score, tied with −∞ by index', () => {
    const scores = Float32Array.of(NaN, -Infinity, -1e30, NaN, Infinity);
    const sel = segmentedTopK(scores, Int32Array.of(0, 5), Int32Array.of(5));
    expect(Array.from(sel.indices)).toEqual([4, 2, 0, 1, 3]);
  });

  it('gives a segment the same picks whatever segments surround it', () => {
    const r = rng(2);
    const mine = Array.from({ length: 40 }, () => Math.floor(r() * 6)); // many ties
    const alone = segmentedTopK(Float32Array.from(mine), Int32Array.of(0, 40), Int32Array.of(12));
    const { scores, offsets } = segmented([9, 40, 3], (i) => (i >= 9 && i < 49 ? mine[i - 9] : r()));
    const batch = segmentedTopK(scores, offsets, Int32Array.of(4, 12, 1));
    expect(picks(batch, offsets, 1)).toEqual(picks(alone, Int32Array.of(0, 40), 0));
  });

  it('rejects malformed segment offsets and counts, naming the argument', () => {
    const scores = new Float32Array(5);
    expect(() => segmentedTopK(scores, Int32Array.of(1, 5), Int32Array.of(1))).toThrow(
      new RangeError('Expected `segmentOffsets[0]` to be 0, got 1'),
    );
    expect(() => segmentedTopK(scores, Int32Array.of(0, 3, 2, 5), Int32Array.of(1, 1, 1))).toThrow(/non-decreasing/);
    expect(() => segmentedTopK(scores, Int32Array.of(0, 4), Int32Array.of(1))).toThrow(
      new RangeError('Expected the last of `segmentOffsets` to be scores.length (5), got 4'),
    );
    expect(() => segmentedTopK(scores, Int32Array.of(0, 5), Int32Array.of(1, 2))).toThrow(/`k` to have one entry per segment \(1\), got 2/);
    expect(() => segmentedTopK(scores, Int32Array.of(0, 5), Int32Array.of(-1))).toThrow(new RangeError('Expected `k[0]` to be >= 0, got -1'));
    expect(() => segmentedTopK(scores, new Int32Array(0), new Int32Array(0))).toThrow(RangeError);
    expect(() => segmentedTopK(new Float64Array(5) as unknown as Float32Array, Int32Array.of(0, 5), Int32Array.of(1))).toThrow(TypeError);
  });
});

describe('sampleCandidates', () => {
  it('is segmentedTopK at temperature 0', () => {
    const r = rng(3);
    const { scores, offsets } = segmented([5, 17, 1, 30], () => Math.floor(r() * 8) / 4);
    const count = Int32Array.of(2, 17, 1, 9);
    const sampled = sampleCandidates(scores, offsets, count, 0, new Float64Array(4).fill(7), new Uint32Array(4));
    const top = segmentedTopK(scores, offsets, count);
    expect(Array.from(sampled.indices)).toEqual(Array.from(top.indices));
    expect(Array.from(sampled.offsets)).toEqual(Array.from(top.offsets));
  });

  it('orders candidates by the documented Gumbel keys (Philox counter, index, 0, "CAND")', () => {
    const r = rng(4);
    const lengths = Array.from({ length: 60 }, () => 2 + Math.floor(r() * 12));
    const { scores, offsets } = segmented(lengths, () => Math.round((r() * 2 - 1) * 300) / 100);
    const seeds = Float64Array.from(lengths, () => Math.floor(r() * 2 ** 53));
    const counters = Uint32Array.from(lengths, () => Math.floor(r() * 2 ** 32));
    const t = 0.7;
    const sel = sampleCandidates(scores, offsets, Int32Array.from(lengths), t, seeds, counters);
    let checked = 0;
    lengths.forEach((n, s) => {
      const keys = Array.from({ length: n }, (_, j) => referenceGumbelKey(scores[offsets[s] + j], t, seeds[s], counters[s], j));
      const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => keys[b] - keys[a]);
      // f32 against f64 arithmetic: skip a segment whose keys come within 1e-3 of each other.
      if (order.some((j, i) => i > 0 && keys[order[i - 1]] - keys[j] < 1e-3)) return;
      expect(picks(sel, offsets, s)).toEqual(order);
      checked++;
    });
    expect(checked).toBeGreaterThan(50);
  });

  it('draws the first candidate with softmax(scores / T) probabilities (chi-square, 7 candidates)', () => {
    const scores = [0.3, -1.2, 2.0, 0.0, 1.1, -0.4, 0.9];
    const t = 0.8;
    const n = 20000;
    const { sel, offsets } = repeatedDraws(scores, n, 1, t, 12345);
    const counts = new Array(scores.length).fill(0);
    for (let s = 0; s < n; s++) counts[picks(sel, offsets, s)[0]]++;
    const expected = softmax(scores, t).map((p) => p * n);
    // 6 degrees of freedom: 22.46 is the 0.999 quantile.
    expect(chiSquare(counts, expected)).toBeLessThan(22.46);
  });

  it('draws ordered pairs without replacement as successive softmax draws (chi-square, Plackett–Luce)', () => {
    const scores = [0.5, -0.3, 1.0, 0.0];
    const n = 20000;
    const { sel, offsets } = repeatedDraws(scores, n, 2, 1, 777);
    const p = softmax(scores, 1);
    const cells: number[] = [];
    const expected: number[] = [];
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) if (a !== b) (cells.push(a * 4 + b), expected.push((n * p[a] * p[b]) / (1 - p[a])));
    const counts = new Array(cells.length).fill(0);
    let repeats = 0;
    for (let s = 0; s < n; s++) {
      const [a, b] = picks(sel, offsets, s);
      if (a === b) repeats++;
      else counts[cells.indexOf(a * 4 + b)]++;
    }
    expect(repeats).toBe(0);
    // 11 degrees of freedom: 31.26 is the 0.999 quantile.
    expect(chiSquare(counts, expected)).toBeLessThan(31.26);
  });

  it('returns distinct candidates of the segment, min(count, length) of them', () => {
    const r = rng(5);
    const lengths = [6, 3, 0, 50];
    const count = Int32Array.of(6, 5, 2, 20);
    const { scores, offsets } = segmented(lengths, () => r() * 4);
    const sel = sampleCandidates(scores, offsets, count, 1.5, Float64Array.of(1, 2, 3, 4), Uint32Array.of(9, 9, 9, 9));
    lengths.forEach((len, s) => {
      const got = picks(sel, offsets, s);
      expect(got).toHaveLength(Math.min(count[s], len));
      expect(new Set(got).size).toBe(got.length);
      for (const j of got) expect(j >= 0 && j < len).toBe(true);
    });
  });

  it('depends only on the segment’s seed and counter, not on the batch around it', () => {
    const r = rng(6);
    const mine = Array.from({ length: 25 }, () => r() * 3);
    const alone = sampleCandidates(Float32Array.from(mine), Int32Array.of(0, 25), Int32Array.of(8), 0.9, Float64Array.of(2 ** 40 + 3), Uint32Array.of(41));
    const { scores, offsets } = segmented([7, 25, 12], (i) => (i >= 7 && i < 32 ? mine[i - 7] : r()));
    const batch = sampleCandidates(scores, offsets, Int32Array.of(3, 8, 5), 0.9, Float64Array.of(5, 2 ** 40 + 3, 6), Uint32Array.of(0, 41, 2));
    expect(picks(batch, offsets, 1)).toEqual(picks(alone, Int32Array.of(0, 25), 0));
  });

  it('draws differently for different counters of one seed', () => {
    const { sel, offsets } = repeatedDraws([0, 0, 0, 0, 0, 0], 20, 6, 1, 99);
    const orders = new Set(Array.from({ length: 20 }, (_, s) => picks(sel, offsets, s).join(',')));
    expect(orders.size).toBeGreaterThan(10);
  });

  it('puts zero-probability candidates (−∞, NaN) after all others, in index order', () => {
    const scores = Float32Array.of(-Infinity, 0.2, NaN, -5, -Infinity, 3);
    const sel = sampleCandidates(scores, Int32Array.of(0, 6), Int32Array.of(6), 2, Float64Array.of(11), Uint32Array.of(0));
    const got = Array.from(sel.indices);
    expect(new Set(got.slice(0, 3))).toEqual(new Set([1, 3, 5]));
    expect(got.slice(3)).toEqual([0, 2, 4]);
  });

  it('rejects a negative temperature, a non-integer seed and mismatched per-segment arrays', () => {
    const scores = new Float32Array(4);
    const off = Int32Array.of(0, 4);
    const one = Int32Array.of(2);
    expect(() => sampleCandidates(scores, off, one, -1, Float64Array.of(0), Uint32Array.of(0))).toThrow(
      new RangeError('Expected `temperature` to be >= 0 (0 = top-k), got -1'),
    );
    expect(() => sampleCandidates(scores, off, one, 1, Float64Array.of(0.5), Uint32Array.of(0))).toThrow(
      new RangeError('Expected `seeds[0]` to be an integer in [0, 2^53), got 0.5'),
    );
    expect(() => sampleCandidates(scores, off, one, 1, Float64Array.of(0, 1), Uint32Array.of(0))).toThrow(/`seeds` to have one entry per segment/);
    expect(() => sampleCandidates(scores, off, one, 1, Float64Array.of(0), new Uint32Array(0))).toThrow(/`counters` to have one entry per segment/);
    expect(() => sampleCandidates(scores, off, one, NaN, Float64Array.of(0), Uint32Array.of(0))).toThrow(RangeError);
    expect(() => sampleCandidates(scores, off, Int32Array.of(-2), 1, Float64Array.of(0), Uint32Array.of(0))).toThrow(
      new RangeError('Expected `count[0]` to be >= 0, got -2'),
    );
  });
});

describe('Philox4x32-10 reference', () => {
  it('matches the Random123 known answer for a zero counter and key', () => {
    expect(philox([0, 0, 0, 0], [0, 0])).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
  });
});
