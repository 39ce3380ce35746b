import { describe, expect, it } from 'vitest';
import type { IsaName } from '../../lib/native/addon-types.js';
import type { SampleArgs } from '../../lib/native/kernel-types.js';
import { nativeKernels } from '../../lib/native/kernels.js';

const kernels = nativeKernels();
/** Every build of the row loops this host can run: the baseline, and avx2 where the CPU has it. */
const variants: IsaName[] = kernels.cpuInfo().avx2 ? ['scalar', 'avx2'] : ['scalar'];

// ---------------------------------------------------------------------------------------------------
// Independent references: Philox4x32-10, a seeded logit generator, Hugging Face's warpers in float64,
// and a chi-square test.

/** Philox4x32-10 in BigInt arithmetic; counter and key words least significant first. */
function philox4x32_10(counter: readonly number[], key: readonly number[]): number[] {
  const mask = 0xffffffffn;
  let c = counter.map(BigInt);
  let k = key.map(BigInt);
  for (let round = 0; round < 10; round++) {
    if (round > 0) k = [(k[0] + 0x9e3779b9n) & mask, (k[1] + 0xbb67ae85n) & mask];
    const p0 = 0xd2511f53n * c[0];
    const p1 = 0xcd9e8d57n * c[2];
    c = [(p1 >> 32n) ^ c[1] ^ k[0], p1 & mask, (p0 >> 32n) ^ c[3] ^ k[1], p0 & mask];
  }
  return c.map(Number);
}

/** First output word of the stream the sampler uses: key = seed halves, counter words 0-1 = counter. */
function philoxWord0(seed: bigint, counter: number): number {
  const key = [Number(seed & 0xffffffffn), Number(seed >> 32n)];
  return philox4x32_10([counter >>> 0, 0, 0, 0], key)[0];
}

/** mulberry32: a small seeded generator for test inputs (not the generator under test). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Gaussian logits of standard deviation `scale` (Box-Muller over mulberry32). */
function randomLogits(vocab: number, seed: number, scale: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(vocab);
  for (let i = 0; i < vocab; i++) {
    const u1 = 1 - rand();
    const u2 = rand();
    out[i] = scale * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return out;
}

interface Params {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
}
const plain: Params = { temperature: 1, topK: 0, topP: 1, minP: 0 };

function softmaxMasked(scores: Float64Array): Float64Array {
  let max = -Infinity;
  for (const s of scores) max = Math.max(max, s);
  const p = scores.map((s) => (s === -Infinity ? 0 : Math.exp(s - max)));
  const sum = p.reduce((a, b) => a + b, 0);
  return p.map((x) => x / sum);
}

/**
 * The filtered, renormalised distribution as Hugging Face's warpers compute it (temperature, top-k,
 * top-p, min-p), written from their definitions in float64. Top-k keeps exactly k, ties to low ids.
 */
function referenceDistribution(logits: Float32Array, params: Params): Float64Array {
  const vocab = logits.length;
  const scores = Float64Array.from(logits, (l) => l / params.temperature);
  const byRankDesc = [...Array(vocab).keys()].sort((a, b) => scores[b] - scores[a] || a - b);
  if (params.topK > 0 && params.topK < vocab) {
    for (const id of byRankDesc.slice(params.topK)) scores[id] = -Infinity;
  }
  if (params.topP < 1) {
    // HF TopPLogitsWarper: ascending sort, remove tokens whose cumulative probability from the bottom
    // is <= 1 - top_p, always keep the most probable one.
    const p = softmaxMasked(scores);
    const ascending = [...byRankDesc].reverse();
    let cum = 0;
    for (let j = 0; j < ascending.length - 1; j++) {
      cum += p[ascending[j]];
      if (cum <= 1 - params.topP) scores[ascending[j]] = -Infinity;
    }
  }
  if (params.minP > 0) {
    // HF MinPLogitsWarper: remove tokens with p < min_p * max p of the distribution left so far.
    const p = softmaxMasked(scores);
    const pmax = Math.max(...p);
    for (let i = 0; i < vocab; i++) if (p[i] < params.minP * pmax) scores[i] = -Infinity;
  }
  return softmaxMasked(scores);
}

/** log Γ(x) for x > 0 (Lanczos, g = 7, n = 9). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised upper incomplete gamma Q(a, x): series below a + 1, Lentz continued fraction above. */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lead = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10000 && Math.abs(term) > Math.abs(sum) * 1e-15; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return 1 - sum * lead;
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h * lead;
}

/**
 * Pearson chi-square p-value of `counts` against `probs` over the kept tokens (probs > 0). Tokens are
 * pooled, most probable first, into bins of expected count >= 20 so the chi-square law holds.
 */
function chiSquarePValue(counts: Int32Array, probs: Float64Array): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const kept = [...probs.keys()].filter((i) => probs[i] > 0).sort((a, b) => probs[b] - probs[a]);
  const bins: { expected: number; observed: number }[] = [];
  let cur = { expected: 0, observed: 0 };
  for (const id of kept) {
    cur.expected += probs[id] * total;
    cur.observed += counts[id];
    if (cur.expected >= 20) {
      bins.push(cur);
      cur = { expected: 0, observed: 0 };
    }
  }
  if (cur.expected > 0) {
    if (bins.length === 0) bins.push(cur);
    else {
      bins[bins.length - 1].expected += cur.expected;
      bins[bins.length - 1].observed += cur.observed;
    }
  }
  if (bins.length < 2) return 1;
  const chi2 = bins.reduce((s, b) => s + (b.observed - b.expected) ** 2 / b.expected, 0);
  return gammaQ((bins.length - 1) / 2, chi2 / 2);
}

// ---------------------------------------------------------------------------------------------------
// Calling the kernel.

function sampleArgs(logits: Float32Array, rows: number, vocab: number, params: Params[], seeds: number[], counters: number[]): SampleArgs {
  return {
    logits,
    rows,
    vocab,
    temperature: Float32Array.from(params, (p) => p.temperature),
    topK: Int32Array.from(params, (p) => p.topK),
    topP: Float32Array.from(params, (p) => p.topP),
    minP: Float32Array.from(params, (p) => p.minP),
    seeds: Float64Array.from(seeds),
    counters: Uint32Array.from(counters),
  };
}

/** `draws` samples of one logit row with draw counters 0, 1, ..., batched a few MB at a time. */
function drawMany(logits: Float32Array, params: Params, draws: number, seed: number, isa?: IsaName): Int32Array {
  const vocab = logits.length;
  const chunk = Math.max(1, Math.min(draws, Math.floor(2 ** 21 / vocab)));
  const batch = new Float32Array(chunk * vocab);
  for (let r = 0; r < chunk; r++) batch.set(logits, r * vocab);
  const out = new Int32Array(draws);
  for (let start = 0; start < draws; start += chunk) {
    const rows = Math.min(chunk, draws - start);
    const counters = Array.from({ length: rows }, (_, r) => start + r);
    const args = sampleArgs(batch.subarray(0, rows * vocab), rows, vocab, Array(rows).fill(params), Array(rows).fill(seed), counters);
    out.set(kernels.sample(isa === undefined ? args : { ...args, isa }), start);
  }
  return out;
}

function sampleOne(logits: Float32Array, params: Params, seed = 7, counter = 0): number {
  return kernels.sample(sampleArgs(logits, 1, logits.length, [params], [seed], [counter]))[0];
}

function histogram(tokens: Int32Array, vocab: number): Int32Array {
  const counts = new Int32Array(vocab);
  for (const t of tokens) counts[t]++;
  return counts;
}

/** Draws `draws` samples and checks them against the reference: nothing filtered, chi-square p >= 1e-4. */
function expectMatchesReference(logits: Float32Array, params: Params, draws: number, isa: IsaName): void {
  const probs = referenceDistribution(logits, params);
  const counts = histogram(drawMany(logits, params, draws, 20240601, isa), logits.length);
  const filteredDrawn = [...counts.keys()].filter((i) => counts[i] > 0 && probs[i] === 0);
  expect(filteredDrawn).toEqual([]);
  expect(chiSquarePValue(counts, probs)).toBeGreaterThanOrEqual(1e-4);
}

// ---------------------------------------------------------------------------------------------------

describe('Philox4x32-10', () => {
  it('the TypeScript reference reproduces the Random123 known-answer vectors', () => {
    expect(philox4x32_10([0, 0, 0, 0], [0, 0])).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    expect(philox4x32_10([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])).toEqual([
      0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd,
    ]);
    expect(philox4x32_10([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])).toEqual([
      0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1,
    ]);
  });

  // Over 65536 equal logits the unfiltered walk goes in id order, so the token drawn is
  // floor(u · 65536): the top 16 bits of Philox output word 0.
  const flat = new Float32Array(65536);

  it('the native draw for seed 0, counter 0 is the known answer for key 0, counter 0', () => {
    expect(sampleOne(flat, plain, 0, 0)).toBe(0x6627e8d5 >>> 16);
  });

  it('native draws follow the TypeScript Philox for seeds above 2^32 and counters up to 2^32 - 1', () => {
    const pairs: [number, number][] = [];
    for (const seed of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 2 ** 53 - 1, 123456789012345]) {
      for (const counter of [0, 1, 2, 0xffffffff, 0x80000000]) pairs.push([seed, counter]);
    }
    const rand = mulberry32(99);
    for (let i = 0; i < 60; i++) pairs.push([Math.floor(rand() * 2 ** 53), Math.floor(rand() * 2 ** 32)]);
    const native = pairs.map(([seed, counter]) => sampleOne(flat, plain, seed, counter));
    expect(native).toEqual(pairs.map(([seed, counter]) => philoxWord0(BigInt(seed), counter) >>> 16));
  });
});

describe('greedy (temperature 0)', () => {
  const greedy: Params = { ...plain, temperature: 0 };

  it('picks the largest logit', () => {
    const logits = randomLogits(111, 5, 3);
    const expected = logits.indexOf(Math.max(...logits));
    expect(sampleOne(logits, greedy)).toBe(expected);
  });

  it('breaks ties toward the lowest id', () => {
    const logits = new Float32Array(111).fill(-1);
    logits[40] = 2;
    logits[17] = 2;
    logits[90] = 2;
    expect(sampleOne(logits, greedy)).toBe(17);
  });

  it('treats -0 and +0 as tied when zero is the largest logit', () => {
    const logits = new Float32Array(111).fill(-3);
    logits[12] = -0;
    logits[40] = 0;
    expect(sampleOne(logits, greedy)).toBe(12);
  });

  it('ignores the seed and counter', () => {
    const logits = randomLogits(111, 6, 3);
    const picks = new Set([0, 1, 2, 3].map((c) => sampleOne(logits, greedy, 1000 + c, c)));
    expect(picks.size).toBe(1);
  });
});

describe.each(variants)('sampling follows the filtered, renormalised softmax (%s row loops)', (isa) => {
  describe('vocab 111, 20k draws', () => {
    const logits = randomLogits(111, 42, 1.5);

    it('temperature only', () => {
      expectMatchesReference(logits, { ...plain, temperature: 0.7 }, 20000, isa);
    });

    it('top-k', () => {
      expectMatchesReference(logits, { ...plain, topK: 17 }, 20000, isa);
    });

    it('top-p', () => {
      expectMatchesReference(logits, { ...plain, topP: 0.8 }, 20000, isa);
    });

    it('min-p', () => {
      expectMatchesReference(logits, { ...plain, minP: 0.08 }, 20000, isa);
    });

    it('temperature, top-k and top-p combined', () => {
      // Top-p runs on the top-k survivors renormalised: 25 kept here, 43 without top-k.
      expectMatchesReference(logits, { temperature: 1.3, topK: 40, topP: 0.8, minP: 0 }, 20000, isa);
    });

    it('temperature, top-k, top-p and min-p combined', () => {
      // Top-k keeps 40, top-p 29 of those, min-p 21 (top-p and min-p both cut the same order, so
      // only the tighter one shows; the test above has top-p binding).
      expectMatchesReference(logits, { temperature: 1, topK: 40, topP: 0.9, minP: 0.1 }, 20000, isa);
    });
  });

  describe('beyond the small-k and head-of-distribution fast paths', () => {
    const logits = randomLogits(1111, 43, 1);

    it('top-k with k above the heap bound (300 of 1111)', () => {
      expectMatchesReference(logits, { ...plain, topK: 300 }, 20000, isa);
    });

    it('top-k above the heap bound combined with top-p', () => {
      // Top-k keeps 400, top-p 218 of those (383 without top-k).
      expectMatchesReference(logits, { temperature: 0.8, topK: 400, topP: 0.8, minP: 0 }, 20000, isa);
    });

    it('top-k above the heap bound combined with top-p and min-p', () => {
      // Top-k keeps 400, top-p 296 of those, min-p 143.
      expectMatchesReference(logits, { temperature: 0.8, topK: 400, topP: 0.9, minP: 0.05 }, 20000, isa);
    });

    it('top-p whose cut lies far below the top token (z < -10)', () => {
      // One dominant token and a low plateau holding ~3% of the mass: keeping 99.5% cuts the plateau.
      const tail = randomLogits(3001, 44, 0.5);
      tail[1500] = 12;
      expectMatchesReference(tail, { ...plain, topP: 0.995 }, 10000, isa);
    });

    it('top-p over 30011 logits, most of them far below the head', () => {
      // Standard deviation 4: about 1000 tokens within 10 of the top, 310 kept at top_p 0.95.
      const wide = randomLogits(30011, 8, 4);
      expectMatchesReference(wide, { ...plain, topP: 0.95 }, 6000, isa);
    });
  });

  it('top-k above the heap bound keeps exactly k tokens, ties going to the lowest ids', () => {
    // All logits equal: the k kept tokens must be ids [0, k), uniformly.
    const vocab = 5003;
    const topK = 4500;
    const tokens = drawMany(new Float32Array(vocab), { ...plain, topK }, 10000, 3, isa);
    expect(Math.max(...tokens)).toBeLessThan(topK);
    const uniform = new Float64Array(vocab);
    uniform.fill(1 / topK, 0, topK);
    expect(chiSquarePValue(histogram(tokens, vocab), uniform)).toBeGreaterThanOrEqual(1e-4);
  });

  it('top-k below the heap bound gives ties at the boundary to the lowest ids', () => {
    const logits = new Float32Array(111);
    logits[100] = 1; // one clear winner, then 110 ties of which 9 are kept
    const tokens = drawMany(logits, { ...plain, topK: 10 }, 2000, 4, isa);
    expect([...new Set(tokens)].every((t) => t < 9 || t === 100)).toBe(true);
  });

  it('never draws a -inf token', () => {
    const logits = randomLogits(111, 9, 0.1);
    for (let i = 0; i < 111; i += 2) logits[i] = -Infinity;
    const tokens = drawMany(logits, { ...plain, topP: 0.9 }, 5000, 5, isa);
    expect(tokens.every((t) => t % 2 === 1)).toBe(true);
  });
});

describe('non-finite logits', () => {
  it('falls back to the argmax of the other logits when one is NaN', () => {
    const logits = randomLogits(111, 10, 1);
    logits[3] = NaN;
    logits[50] = 9;
    expect([0, 1, 2].map((c) => sampleOne(logits, plain, 1, c))).toEqual([50, 50, 50]);
  });

  it('returns token 0 when every logit is -inf', () => {
    expect(sampleOne(new Float32Array(111).fill(-Infinity), plain)).toBe(0);
  });

  it('returns token 0 when every logit is NaN', () => {
    expect(sampleOne(new Float32Array(111).fill(NaN), { ...plain, topP: 0.5 })).toBe(0);
  });

  it('returns the lowest id holding +inf', () => {
    const logits = randomLogits(111, 11, 1);
    logits[70] = Infinity;
    logits[20] = Infinity;
    expect(sampleOne(logits, { ...plain, topK: 5 })).toBe(20);
  });
});

describe('determinism', () => {
  it('gives the same token for the same (seed, counter) whatever the row or batch', () => {
    const vocab = 111;
    const n = 12;
    const rows = Array.from({ length: n }, (_, r) => randomLogits(vocab, 100 + r, 2));
    const params: Params[] = Array.from({ length: n }, (_, r) => ({
      temperature: 0.5 + (r % 3) * 0.4,
      topK: r % 4 === 0 ? 20 : 0,
      topP: r % 3 === 0 ? 0.85 : 1,
      minP: r % 5 === 0 ? 0.02 : 0,
    }));
    const seeds = Array.from({ length: n }, (_, r) => 1000 * r + 7);
    const counters = Array.from({ length: n }, (_, r) => 31 * r);
    const alone = rows.map((l, r) => sampleOne(l, params[r], seeds[r], counters[r]));

    const order = [5, 11, 0, 3, 8, 1, 10, 2, 7, 4, 9, 6];
    const batch = new Float32Array(n * vocab);
    order.forEach((r, pos) => batch.set(rows[r], pos * vocab));
    const shuffled = kernels.sample(sampleArgs(batch, n, vocab, order.map((r) => params[r]), order.map((r) => seeds[r]), order.map((r) => counters[r])));
    expect(Array.from(shuffled)).toEqual(order.map((r) => alone[r]));
  });

  it('gives different draws for different counters of one seed', () => {
    const tokens = drawMany(new Float32Array(111), plain, 200, 1);
    expect(new Set(tokens).size).toBeGreaterThan(50);
  });
});

describe('argument validation', () => {
  const vocab = 5;
  const good = (): SampleArgs => sampleArgs(new Float32Array(2 * vocab), 2, vocab, [plain, plain], [1, 2], [0, 0]);

  it('accepts well-formed arguments', () => {
    expect(kernels.sample(good())).toHaveLength(2);
  });

  it.each([
    ['temperature', (a: SampleArgs) => (a.temperature[1] = -0.5), /`temperature\[1\]`.*≥ 0/],
    ['temperature NaN', (a: SampleArgs) => (a.temperature[0] = NaN), /`temperature\[0\]`/],
    ['topK', (a: SampleArgs) => (a.topK[1] = -1), /`topK\[1\]`/],
    ['topP zero', (a: SampleArgs) => (a.topP[0] = 0), /`topP\[0\]`.*\(0, 1\]/],
    ['topP above one', (a: SampleArgs) => (a.topP[1] = 1.5), /`topP\[1\]`/],
    ['minP', (a: SampleArgs) => (a.minP[1] = 1.01), /`minP\[1\]`.*\[0, 1\]/],
    ['minP negative', (a: SampleArgs) => (a.minP[0] = -0.1), /`minP\[0\]`/],
    ['seed fraction', (a: SampleArgs) => (a.seeds[1] = 1.5), /`seeds\[1\]`.*2\^53/],
    ['seed too large', (a: SampleArgs) => (a.seeds[0] = 2 ** 53), /`seeds\[0\]`/],
    ['seed negative', (a: SampleArgs) => (a.seeds[0] = -1), /`seeds\[0\]`/],
  ])('rejects a bad per-row value: %s', (_name, spoil, message) => {
    const args = good();
    spoil(args);
    expect(() => kernels.sample(args)).toThrow(message);
  });

  it.each([
    ['logits length', (a: SampleArgs) => ({ ...a, logits: new Float32Array(9) }), /`logits`.*2 × 5/],
    ['logits type', (a: SampleArgs) => ({ ...a, logits: new Float64Array(10) }), /`logits`.*Float32Array/],
    ['rows', (a: SampleArgs) => ({ ...a, rows: -1 }), /`rows`/],
    ['vocab', (a: SampleArgs) => ({ ...a, vocab: 0 }), /`vocab`/],
    ['temperature length', (a: SampleArgs) => ({ ...a, temperature: new Float32Array(3) }), /`temperature`.*per row/],
    ['topK type', (a: SampleArgs) => ({ ...a, topK: new Float32Array(2) }), /`topK`.*Int32Array/],
    ['seeds type', (a: SampleArgs) => ({ ...a, seeds: new Uint32Array(2) }), /`seeds`.*Float64Array/],
    ['counters length', (a: SampleArgs) => ({ ...a, counters: new Uint32Array(1) }), /`counters`.*per row/],
  ])('rejects a malformed field: %s', (_name, spoil, message) => {
    const args = spoil(good()) as unknown as SampleArgs;
    expect(() => kernels.sample(args)).toThrow(message);
  });

  it('rejects an unknown row-loop variant', () => {
    expect(() => kernels.sample({ ...good(), isa: 'neon' as IsaName })).toThrow(/`isa`.*'neon'/);
  });

  it('rejects a missing argument object', () => {
    expect(() => (kernels.sample as unknown as () => Int32Array)()).toThrow(/`args`/);
  });
});
