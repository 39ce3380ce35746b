// thinktree search's live progress: the search reports steps and open paths after every generation, and
// the line is redrawn in place on a terminal only.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { liveLine, progressLine } from '../../lib/cli/commands/search.js';
import { Engine } from '../../lib/engine/engine.js';
import { EVAL_SEARCH_PARAMS } from '../../lib/eval/defaults.js';
import type { ProgressEvent } from '../../lib/search/types.js';
import { MODELS, MODELS_READY, QUESTION } from '../viewer/real-search.js';

const EVENT: ProgressEvent = { strategy: 'beam', stepsDone: 48, openPaths: 12, policyTokensGenerated: 530, elapsedMs: 420, tokensPerSecond: 1261.9 };

describe('the progress line', () => {
  it('says steps generated, paths open, tokens, speed and time', () => {
    expect(progressLine(EVENT)).toBe('searching: 48 steps generated, 12 paths open, 530 tokens (1262 tokens/s, 0.4 s)');
    expect(progressLine({ ...EVENT, stepsDone: 1, openPaths: 1 })).toMatch(/^searching: 1 step generated, 1 path open,/);
  });

  it('is redrawn in place on a terminal and wiped at the end', () => {
    let out = '';
    const line = liveLine((s) => void (out += s), true, 0);
    line.update('long line one');
    line.update('two');
    line.finish();
    expect(out).toBe(`\rlong line one\r${'two'.padEnd(13)}\r${' '.repeat(3)}\r`);
  });

  it('writes nothing when stderr is not a terminal', () => {
    let out = '';
    const line = liveLine((s) => void (out += s), false);
    line.update('x');
    line.finish();
    expect(out).toBe('');
  });
});

describe.skipIf(!MODELS_READY)('progress events of a real beam search (N = 16, M = 4)', () => {
  it('count open paths: N candidates after each expansion, none at the end', async () => {
    const engine = await Engine.load(path.join(MODELS, 'policy'), path.join(MODELS, 'prm'), { policy: { threads: 1 }, prm: { threads: 1 } });
    try {
      const events: ProgressEvent[] = [];
      const r = await engine.search(QUESTION, { ...EVAL_SEARCH_PARAMS, strategy: 'beam', n: 16, beamWidth: 4, seed: 3, onProgress: (e) => events.push(e) });
      expect(events.length).toBeGreaterThan(1);
      // The first expansion opens N paths; the last one finishes every path it extends.
      expect(events[0]!.openPaths).toBe(16);
      for (const e of events) expect(e.openPaths).toBeLessThanOrEqual(16);
      expect(events.at(-1)!.openPaths).toBe(0);
      expect(events.at(-1)!.stepsDone).toBe(r.usage.policySteps);
    } finally {
      engine.dispose();
    }
  });
});
