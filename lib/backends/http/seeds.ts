/**
 * Sampler seeds for remote nodes. A server is stateless between requests, so each request carries its
 * own seed: a hash of the node's seed and its step count. A child's seed is a hash of its parent's seed
 * and the parent's fork count, so the same search over the same server draws the same seeds in the
 * same places.
 */

/** 32-bit avalanche (murmur3's finaliser). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A seed in [0, 2^31) from two integers (servers take a signed 32- or 64-bit seed). */
export function mixSeed(a: number, b: number): number {
  const lo = a >>> 0;
  const hi = Math.floor(a / 2 ** 32) >>> 0;
  return fmix32(fmix32(lo ^ 0x9e3779b9) ^ fmix32(hi + 0x7f4a7c15) ^ Math.imul(b + 1, 0x27d4eb2f)) >>> 1;
}
