// Search with the shipped PRM fixes problems that greedy decoding of the shipped policy gets wrong.
// The failure set is found here, by running greedy decoding on the first test problems of levels 3-4
// and keeping the ones it answers wrongly; beam search then runs on exactly those, on fixed seeds.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../lib/engine/engine.js';
import { loadDatasets, type EvalRecord } from '../../lib/eval/dataset.js';
import { EVAL_SEARCH_PARAMS } from '../../lib/eval/defaults.js';
import { isCorrect } from '../../lib/eval/runner.js';
import { mathTask } from '../../lib/tasks/math/task.js';

const MODELS = path.resolve(import.meta.dirname, '..', '..', 'models');
const READY = existsSync(path.join(MODELS, 'policy', 'config.json')) && existsSync(path.join(MODELS, 'prm', 'config.json'));
/** Greedy failures to collect, and where to look for them. */
const FAILURES = 16;
const SCANNED_PER_LEVEL = 40;
/**
 * With the shipped models and minimum aggregation beam search solves 7 of the 16 (prm-v18; with
 * `last` aggregation it solved 4, prm-v12 3, prm-v10 4); the bar is one below, so seeds or float
 * rounding on another CPU do not flip it, while search without a PRM that tells right steps from the
 * policy's slips fails it (measured on the same seeds with `last`: the 4-layer PRM before prm-v7
 * solves 1, majority voting over 16 samples 1).
 */
const MIN_SOLVED = 6;

describe.skipIf(!READY)(`search on the shipped models${READY ? '' : ' (skipped: models/policy or models/prm is absent)'}`, () => {
  let engine: Engine;
  let failed: EvalRecord[] = [];

  beforeAll(async () => {
    engine = await Engine.load(path.join(MODELS, 'policy'), path.join(MODELS, 'prm'));
    const records = (await loadDatasets([3, 4].map((l) => path.join(MODELS, 'data', `test-level-${l}.jsonl.gz`))))
      .filter((r, i, all) => all.filter((o) => o.level === r.level).indexOf(r) < SCANNED_PER_LEVEL);
    const greedy = await Promise.all(
      records.map((r) => engine.search(r.problem, { ...EVAL_SEARCH_PARAMS, strategy: 'majority', n: 1, temperature: 0, seed: 0 })),
    );
    failed = records.filter((r, i) => !isCorrect(mathTask, greedy[i]!, r.answer)).slice(0, FAILURES);
  });

  afterAll(() => engine?.dispose());

  it(`finds ${FAILURES} level 3-4 problems that greedy decoding answers wrongly`, () => {
    expect(failed).toHaveLength(FAILURES);
  });

  it('beam search with the PRM (N=16, beam width 4) solves some of them on fixed seeds', async () => {
    const beam = await Promise.all(
      failed.map((r, i) => engine.search(r.problem, { ...EVAL_SEARCH_PARAMS, strategy: 'beam', n: 16, beamWidth: 4, seed: 1000 + i })),
    );
    const solved = failed.filter((r, i) => isCorrect(mathTask, beam[i]!, r.answer)).length;
    expect(solved).toBeGreaterThanOrEqual(MIN_SOLVED);
  });
});
