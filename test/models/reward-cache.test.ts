// The PRM's reward cache: rewards read at a token prefix are kept (keyed by the prefix's SHA-256), so a
// client resubmitting question + steps runs only the positions it has not read before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RewardCache } from '../../lib/models/prm/reward-cache.js';
import { loadPrm, type Prm } from '../../lib/models/prm/prm.js';
import { fixtureDir } from './prm-fixtures.js';

describe('RewardCache', () => {
  it('keys a prefix by its tokens up to each position, whatever follows', () => {
    const a = RewardCache.keys([5, 6, 7, 8, 9], [1, 3]);
    const b = RewardCache.keys([5, 6, 7, 8, 100, 101], [1, 3, 5]);
    expect(b.slice(0, 2)).toEqual(a);
    expect(RewardCache.keys([5, 6, 7, 9], [3])[0]).not.toBe(a[1]);
    // hashing in one pass equals hashing each prefix alone
    expect(RewardCache.keys([5, 6, 7, 8], [3])[0]).toBe(a[1]);
  });

  it('evicts the least recently used reward beyond its capacity', () => {
    const c = new RewardCache(2);
    c.set('a', 0.1);
    c.set('b', 0.2);
    expect(c.get('a')).toBe(0.1); // a is now the most recent
    c.set('c', 0.3);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(0.1);
    expect(c.get('c')).toBe(0.3);
    expect(c.size).toBe(2);
  });
});

describe('Prm.scoreAt with the prefix cache', () => {
  const load = (prefixCache: boolean) =>
    loadPrm(fixtureDir('qwen2-prm'), { format: 'qwen2.5-math-prm', precision: 'f32', threads: 2, kvCacheBytes: 8 << 20, pageTokens: 8, prefixCache });
  let on: Prm, off: Prm;
  beforeAll(async () => {
    [on, off] = await Promise.all([load(true), load(false)]);
  });
  afterAll(() => {
    on?.dispose();
    off?.dispose();
  });

  const ids = Array.from({ length: 40 }, (_, i) => (i * 7 + 3) % 200);
  const computed = (p: Prm) => p.kvStats().tokensComputed;

  it('runs nothing for rewards it has read, and only the new tail for a longer input', async () => {
    const first = await on.scoreAt([ids.slice(0, 25)], [[9, 17, 24]]);
    const before = computed(on);
    const again = await on.scoreAt([ids.slice(0, 25)], [[9, 17, 24]]);
    expect(computed(on)).toBe(before);
    expect(again.rewards).toEqual(first.rewards);
    const longer = await on.scoreAt([ids], [[9, 17, 24, 39]]);
    expect(longer.rewards[0]!.slice(0, 3)).toEqual(first.rewards[0]);
    // the tail after position 24 (15 tokens) plus at most the page the cache could not serve (8 tokens)
    expect(computed(on) - before).toBeLessThanOrEqual(15 + 8);
    const reference = await off.scoreAt([ids], [[9, 17, 24, 39]]);
    longer.rewards[0]!.forEach((r, k) => expect(Math.abs(r - reference.rewards[0]![k]!)).toBeLessThan(1e-5));
  });

  it('keeps no rewards with the prefix cache off: a resubmitted input runs again', async () => {
    await off.scoreAt([ids.slice(0, 25)], [[9, 17, 24]]);
    const before = computed(off);
    await off.scoreAt([ids.slice(0, 25)], [[9, 17, 24]]);
    expect(computed(off) - before).toBe(25);
  });
});
