// The peers suite end to end on a tiny shape: both engines load the one GGUF file it writes and
// generate the asked tokens (no timing is asserted; speed belongs to `thinktree bench`).
import { describe, expect, it } from 'vitest';
import { benchPeers } from '../../lib/cli/bench/peers.js';
import { loadLlamaCpp } from '../helpers/llama-cpp.js';

const runtime = await loadLlamaCpp();

describe.skipIf(typeof runtime === 'string')('thinktree bench --only peers', () => {
  it('runs thinktree and llama.cpp on the same GGUF and reports both at every batch size', async () => {
    const lines: string[] = [];
    const res = await benchPeers({
      threads: 1,
      log: (l) => void lines.push(l),
      batches: [1, 3],
      promptTokens: 12,
      newTokens: 4,
      shape: { hidden: 64, layers: 1, heads: 4, kvHeads: 2, headDim: 16, intermediate: 128, vocab: 512 },
    });
    expect(res).not.toBeNull();
    for (const v of [res!.prompt.thinktree, res!.prompt.llamaCpp, ...res!.decode.flatMap((r) => [r.thinktree, r.llamaCpp])]) {
      expect(Number.isFinite(v) && v > 0).toBe(true);
    }
    expect(res!.decode.map((r) => r.batch)).toEqual([1, 3]);
    expect(lines.join('\n')).toMatch(/decode B=3 +[\d.]+ +[\d.]+ +[\d.]+×/);
  });
});
