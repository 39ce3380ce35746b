/**
 * Rewards already read at a position of a token prefix, for a PRM whose callers resubmit whole inputs
 * (an HTTP client of /pooling sends the question and every step again each time). The KV prefix cache
 * spares recomputing the prefix's keys and values, but a step tag's reward is an output at a position
 * inside a cached page, and reading it again would mean recomputing that page up to the tag: on a path
 * of k steps, k partial pages per request. This cache keeps the reward row itself, keyed by the SHA-256
 * of the token ids up to and including the tag (a key equal by accident is as unlikely as a SHA-256
 * collision), least recently used first out. A cached reward equals the one computed when it was stored;
 * a fresh computation in another batch shape may differ by rounding (about 1e-6), as with the KV cache.
 */
import { createHash, type Hash } from 'node:crypto';

export class RewardCache {
  private readonly rows = new Map<string, number>();

  constructor(
    /** Most rewards kept (each costs about 100 bytes). */
    readonly capacity = 65_536,
  ) {}

  get size(): number {
    return this.rows.size;
  }

  /** Keys of `ids[0 ..= p]` for each position p of `positions` (ascending), hashed in one pass. */
  static keys(ids: readonly number[], positions: readonly number[]): string[] {
    const hash: Hash = createHash('sha256');
    const keys: string[] = [];
    let hashed = 0;
    for (const p of positions) {
      hash.update(Buffer.from(Int32Array.from(ids.slice(hashed, p + 1)).buffer));
      hashed = p + 1;
      keys.push(hash.copy().digest('base64'));
    }
    return keys;
  }

  get(key: string): number | undefined {
    const r = this.rows.get(key);
    if (r !== undefined) {
      this.rows.delete(key); // most recently used goes last
      this.rows.set(key, r);
    }
    return r;
  }

  set(key: string, reward: number): void {
    this.rows.delete(key);
    this.rows.set(key, reward);
    if (this.rows.size > this.capacity) this.rows.delete(this.rows.keys().next().value!);
  }

  clear(): void {
    this.rows.clear();
  }
}
