// The load benchmark's bookkeeping on a small run: one row per workload and pool, ratios of the two
// measured times, and every page back after each workload (the suite throws otherwise).
import { describe, expect, it } from 'vitest';
import { benchLoad } from '../../lib/cli/bench/load.js';

describe('bench load (4 searches, 4 generate calls, 96 pages, 1 repetition)', () => {
  it('reports concurrent ÷ one-at-a-time per workload and pool from its own timings', async () => {
    const lines: string[] = [];
    const r = await benchLoad({ threads: 2, pools: [96], searches: 4, generations: 4, repeats: 1, log: (l) => lines.push(l) });
    expect(r.rows.map((row) => [row.workload, row.pages])).toEqual([
      ['beam', 96],
      ['generate', 96],
    ]);
    for (const row of r.rows) {
      expect(row.wallRatio).toBeCloseTo(row.concurrentSeconds / row.aloneSeconds, 12);
      expect(row.cpuRatio).toBeGreaterThan(0);
      expect(row.preemptions).toBeGreaterThanOrEqual(0);
    }
    expect(r.worstWallRatio).toBe(Math.max(r.rows[0]!.wallRatio, r.rows[1]!.wallRatio));
    expect(lines.filter((l) => l.includes('concurrent ÷ one at a time'))).toHaveLength(2);
  });
});
