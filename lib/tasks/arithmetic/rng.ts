/**
 * A small seeded PRNG so that generated data sets are reproducible on every platform and Node
 * version (Math.random cannot be seeded). xoshiro128** (Blackman & Vigna) runs on 32-bit words, which
 * JavaScript numbers handle exactly with Math.imul and >>> 0; its 128-bit state is filled from the
 * user's seed by splitmix64, the seeding routine the xoshiro authors recommend, so nearby seeds
 * (0, 1, 2, ...) still give unrelated streams.
 */

const MASK64 = (1n << 64n) - 1n;

/** One splitmix64 step: returns [next state, output]. BigInt because seeding runs only a few times. */
function splitmix64(state: bigint): [bigint, bigint] {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [next, z ^ (z >> 31n)];
}

/** Seeds accepted everywhere in the task: a non-negative safe integer or a bigint below 2^64. */
export type Seed = number | bigint;

export function seedToBigInt(seed: Seed): bigint {
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new TypeError(`Expected \`seed\` to be a non-negative safe integer, got ${seed}`);
    }
    return BigInt(seed);
  }
  if (seed < 0n || seed > MASK64) {
    throw new TypeError(`Expected \`seed\` to be in [0, 2^64), got ${seed}`);
  }
  return seed;
}

/**
 * Derives an independent seed from a parent seed and a list of small integer tags (level, split
 * index, ...), so that every stream of the generator has its own sequence without the caller having
 * to invent seeds.
 */
export function deriveSeed(seed: Seed, ...tags: number[]): bigint {
  let state = seedToBigInt(seed);
  for (const tag of tags) {
    const [next, out] = splitmix64(state ^ BigInt(tag >>> 0));
    state = next ^ out;
  }
  return state & MASK64;
}

export class Rng {
  // xoshiro128** state: four uint32 words, never all zero.
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: Seed) {
    let state = seedToBigInt(seed);
    const words: number[] = [];
    for (let i = 0; i < 2; i++) {
      const [next, out] = splitmix64(state);
      state = next;
      words.push(Number(out & 0xffffffffn), Number(out >> 32n));
    }
    [this.s0, this.s1, this.s2, this.s3] = words;
    // splitmix64 output is a bijection of its counter, so two consecutive outputs are never both 0;
    // the guard documents the invariant xoshiro needs rather than a case that can happen.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform integer in [0, 2^32). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of resolution. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * Uniform integer in the closed range [lo, hi]. Rejection sampling instead of a plain modulo so
   * that small ranges carry no bias (the generator draws millions of operands).
   */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) {
      throw new RangeError(`Expected integers lo <= hi, got lo=${lo}, hi=${hi}`);
    }
    const span = hi - lo + 1;
    if (span > 4294967296) throw new RangeError(`Range too wide for Rng.int: ${span}`);
    if (span === 4294967296) return lo + this.nextUint32();
    const limit = 4294967296 - (4294967296 % span);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return lo + (x % span);
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick needs a non-empty array');
    return items[this.int(0, items.length - 1)];
  }

  /** An index drawn with probability proportional to `weights` (non-negative, not all zero). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    if (!(total > 0)) throw new RangeError('Rng.weighted needs a positive total weight');
    let r = this.nextFloat() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    // Floating-point rounding can leave r at exactly 0 after the loop: the last positive weight wins.
    for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
    return 0;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
