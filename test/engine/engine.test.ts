// End to end on the tiny test models: every strategy on the native engine, page audits, abort, and
// concurrent searches sharing batches.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../lib/engine/engine.js';
import { STRATEGY_NAMES, type StrategyName } from '../../lib/search/types.js';
import { fitCalibration, type CalibrationRow } from '../../lib/search/calibration-table.js';
import type { SearchOptions } from '../../lib/search/types.js';

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures');
const POLICY = path.join(FIXTURES, 'tiny', 'llama-f32');
const PRM = path.join(FIXTURES, 'tiny-prm', 'qwen2-prm');

// Small enough that a whole strategy runs in well under a second on 2 cores.
const SMALL: Omit<SearchOptions, 'backend' | 'strategy'> = {
  n: 4,
  beamWidth: 2,
  maxIterations: 3,
  maxStepTokens: 6,
  temperature: 0.8,
  seed: 7,
};

function expectAllPagesFree(engine: Engine): void {
  const kv = engine.kvStats();
  expect(kv.policy.pagesFree).toBe(kv.policy.pagesTotal);
  expect(kv.prm?.pagesFree).toBe(kv.prm?.pagesTotal);
  expect(engine.backend.liveNodes).toBe(0);
}

describe('Engine on the tiny models', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await Engine.load(POLICY, PRM, {
      policy: { threads: 2, kvCacheBytes: 16 << 20, precision: 'f32' },
      prm: { threads: 2, kvCacheBytes: 16 << 20, precision: 'f32' },
    });
  });
  afterAll(() => engine?.dispose());

  const calibration = () => {
    // A table for exactly these models: every level runs beam search.
    const rows: CalibrationRow[] = [0.1, 0.3, 0.5, 0.7, 0.9].flatMap((difficulty, q) =>
      (['beam', 'weighted-best-of-n'] as const).map((strategy) => ({
        question: `q${q}`,
        difficulty,
        strategy,
        params: { beamWidth: 2 },
        budget: 4,
        correct: strategy === 'beam',
      })),
    );
    return fitCalibration(rows, { policyId: engine.backend.info.policyId!, prmId: engine.backend.info.prmId!, difficultySamples: 2, aggregation: 'last' });
  };

  it.each(STRATEGY_NAMES.filter((s) => s !== 'compute-optimal'))('runs %s and returns every page', async (strategy) => {
    const result = await engine.search('What is 2 + 3?', { ...SMALL, strategy: strategy as StrategyName });
    expect(result.candidates.length).toBeGreaterThan(0);
    expect(result.tree.length).toBeGreaterThan(1);
    expect(result.usage.policyTokensGenerated).toBeGreaterThan(0);
    expectAllPagesFree(engine);
  });

  it('runs compute-optimal with a table fitted for these models', async () => {
    // n = 2 difficulty samples + the calibrated budget of 4.
    const result = await engine.search('What is 2 + 3?', { ...SMALL, n: 6, strategy: 'compute-optimal', calibration: calibration() });
    expect(result.candidates.length).toBeGreaterThan(0);
    expectAllPagesFree(engine);
  });

  it('stops promptly on abort and frees every page', async () => {
    const controller = new AbortController();
    const run = engine.search('What is 2 + 3?', {
      ...SMALL,
      strategy: 'beam',
      n: 8,
      maxIterations: 20,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expectAllPagesFree(engine);
  });

  it('gives 8 concurrent searches the same results as one at a time', async () => {
    const questions = Array.from({ length: 8 }, (_, i) => `What is ${i} + ${i + 1}?`);
    const opts = (i: number) => ({ ...SMALL, strategy: 'beam' as const, seed: 100 + i });
    const sequential = [];
    for (const [i, q] of questions.entries()) sequential.push(await engine.search(q, opts(i)));
    const concurrent = await Promise.all(questions.map((q, i) => engine.search(q, opts(i))));
    for (let i = 0; i < questions.length; i++) {
      expect(concurrent[i].candidates.map((c) => c.text)).toEqual(sequential[i].candidates.map((c) => c.text));
      expect(concurrent[i].tree.map((t) => [t.parent, t.stepText])).toEqual(sequential[i].tree.map((t) => [t.parent, t.stepText]));
    }
    expectAllPagesFree(engine);
  });
});
