// The serve benchmark's bookkeeping on a small run: the in-process searches and the same searches
// served as a model do exactly the same native work (cache off, same seeds), and a client that
// resubmits every prefix makes the server compute no fewer tokens without the prefix cache than with it.
import { describe, expect, it } from 'vitest';
import { benchServe } from '../../lib/cli/bench/serve.js';

describe('bench serve (2 searches, N = 4)', () => {
  it('measures identical work in process and through the server, and fewer tokens with the prefix cache', async () => {
    const lines: string[] = [];
    const r = await benchServe({ threads: 2, searches: 2, n: 4, beamWidth: 2, level: 3, log: (l) => lines.push(l) });
    expect(r.searchAsModel.policyTokens).toBe(r.inProcess.policyTokens);
    expect(r.searchAsModel.prmTokens).toBe(r.inProcess.prmTokens);
    expect(r.searchAsModel.meanSteps).toBe(r.inProcess.meanSteps);
    expect(r.inProcess.prmTokens).toBeGreaterThan(0);
    // Same seeds and the same server-side sampler: the remote searches are the same with the cache on and off.
    expect(r.remoteCached.meanSteps).toBe(r.remoteUncached.meanSteps);
    expect(r.remoteUncached.prmTokens).toBeGreaterThan(r.remoteCached.prmTokens);
    expect(r.remoteUncached.policyTokens).toBeGreaterThan(r.remoteCached.policyTokens);
    expect(r.prmCacheRatio).toBeCloseTo(r.remoteUncached.prmTokens / r.remoteCached.prmTokens, 12);
    expect(lines.some((l) => l.includes('server overhead'))).toBe(true);
    // PRM over /pooling at depths 1..8: the cache saves more the deeper the path it resubmits.
    expect(r.prmDepthRatios).toHaveLength(8);
    for (let i = 1; i < 8; i++) expect(r.prmDepthRatios[i]!).toBeGreaterThan(r.prmDepthRatios[i - 1]!);
    expect(r.prmDepthRatios[0]!).toBeGreaterThanOrEqual(1);
  });
});
