import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CALIBRATION_VERSION,
  checkCalibration,
  fitCalibration,
  type CalibrationRow,
  type CalibrationTable,
} from '../../lib/search/calibration-table.js';
import { loadCalibration, saveCalibration } from '../../lib/eval/calibration-file.js';
import { difficultyScore } from '../../lib/search/difficulty.js';
import { OptionError } from '../../lib/errors.js';
import { search } from '../../lib/search/search.js';
import type { StrategyName } from '../../lib/search/types.js';
import { ScriptedBackend, treeScript } from './scripted-backend.js';

const Q = 'how hard is this?';
const script = () => treeScript({ depth: 2, answers: [{ answer: '1', p: 0.5 }, { answer: '2', p: 0.5 }] });
const SAMPLES = 2;
const BUDGET = 8;
const byLevel: Record<string, { strategy: StrategyName; params: Record<string, unknown> }> = {
  '1': { strategy: 'best-of-n', params: {} },
  '2': { strategy: 'weighted-best-of-n', params: {} },
  '3': { strategy: 'beam', params: { beamWidth: 2 } },
  '4': { strategy: 'dvts', params: { beamWidth: 4 } },
  '5': { strategy: 'lookahead', params: { n: 4, beamWidth: 2, lookahead: 1 } },
};

/** A table whose thresholds put difficulty `d` at `level` (1 easiest: d at or above every threshold). */
function tableFor(d: number, level: number, ids = { policyId: 'scripted-policy', prmId: 'scripted-prm' }): CalibrationTable {
  const below = 5 - level;
  const thresholds = [0, 1, 2, 3].map((i) => (i < below ? d - 0.4 + i * 0.01 : d + 0.01 + i * 0.01));
  return {
    version: CALIBRATION_VERSION,
    ...ids,
    difficultySamples: SAMPLES,
    aggregation: 'last',
    thresholds,
    choices: { [BUDGET]: byLevel },
  } as CalibrationTable;
}

/** The difficulty the calibrate command would record: best-of-n with the table's sample count. */
async function standaloneDifficulty(): Promise<number> {
  const r = await search(Q, { backend: new ScriptedBackend(script()), strategy: 'best-of-n', n: SAMPLES });
  return difficultyScore(r.candidates, 'last');
}

describe('compute-optimal', () => {
  it.each([1, 2, 3, 4, 5])('runs the table’s choice for difficulty level %i', async (level) => {
    const d = await standaloneDifficulty();
    const backend = new ScriptedBackend(script());
    const r = await search(Q, { backend, strategy: 'compute-optimal', n: SAMPLES + BUDGET, calibration: tableFor(d, level) });
    expect(r.details).toMatchObject({ kind: 'compute-optimal', level, budget: BUDGET, chosen: byLevel[level] });
    expect(r.details?.kind === 'compute-optimal' && r.details.difficulty).toBeCloseTo(d, 12);
    // The chosen strategy's cost plus the difficulty samples.
    expect(r.usage.generations).toBe(SAMPLES + BUDGET);
    expect(backend.live.size).toBe(0);
  });

  it('shows the chosen strategy’s structure in the tree (DVTS groups at level 4)', async () => {
    const d = await standaloneDifficulty();
    const r = await search(Q, { backend: new ScriptedBackend(script()), strategy: 'compute-optimal', n: 10, calibration: tableFor(d, 4) });
    expect(r.candidates).toHaveLength(SAMPLES + BUDGET);
    // Two difficulty samples (groups 0, 1), then 8/4 = 2 DVTS subtrees (groups 0, 1) of width 4.
    const dvtsFirst = r.tree.filter((n) => n.parent === 0).slice(SAMPLES);
    expect(dvtsFirst.map((n) => n.group)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
  });

  it('chooses the answer among the difficulty samples and the choice’s candidates together', async () => {
    const d = await standaloneDifficulty();
    const r = await search(Q, { backend: new ScriptedBackend(script()), strategy: 'compute-optimal', n: 10, calibration: tableFor(d, 2) });
    expect(r.candidates).toHaveLength(SAMPLES + BUDGET);
    // The first candidates are the difficulty samples: they give the difficulty the search reported.
    expect(difficultyScore(r.candidates.slice(0, SAMPLES), 'last')).toBeCloseTo(d, 12);
    // Weighted best-of-n over all ten: the answer with the largest summed score.
    const sums = new Map<string, number>();
    for (const c of r.candidates) if (c.answer !== null) sums.set(c.answer, (sums.get(c.answer) ?? 0) + c.aggregatedScore!);
    const best = [...sums].sort((a, b) => b[1] - a[1])[0]![0];
    expect(r.answer).toBe(best);
  });

  it('spends what the choice leaves of the budget on more samples for the answer choice', async () => {
    const d = await standaloneDifficulty();
    // Beam search with 6 of the 8 generations; 2 are left.
    const table = tableFor(d, 3);
    table.choices[BUDGET]!['3'] = { strategy: 'beam', params: { n: 6, beamWidth: 2 } };
    const r = await search(Q, { backend: new ScriptedBackend(script()), strategy: 'compute-optimal', n: 10, calibration: table });
    expect(r.usage.generations).toBe(SAMPLES + BUDGET);
    // First steps from the root: 2 difficulty samples, 6 beams, 2 more samples.
    expect(r.tree.filter((n) => n.parent === 0)).toHaveLength(SAMPLES + 6 + 2);
    // The more samples are finished solutions among the candidates.
    expect(r.candidates.slice(-2).every((c) => c.finished && c.answer !== null)).toBe(true);
  });

  it.each([['given', { aggregation: 'min' as const }], ['not given', {}]])(
    'measures the difficulty and chooses the answer under the table’s aggregation (search’s %s)',
    async (_, asked) => {
      const table = { ...tableFor(0.5, 2), aggregation: 'min' as const };
      const r = await search(Q, { backend: new ScriptedBackend(script()), strategy: 'compute-optimal', n: 10, calibration: table, ...asked });
      const samples = r.candidates.slice(0, SAMPLES);
      const lows = samples.map((c) => Math.min(...c.stepScores));
      const finals = samples.map((c) => c.stepScores.at(-1)!);
      // The script's samples score lower somewhere before their last step, so the two measures differ.
      expect(lows).not.toEqual(finals);
      expect(r.details?.kind === 'compute-optimal' && r.details.difficulty).toBeCloseTo((lows[0]! + lows[1]!) / 2, 12);
      // Every candidate is valued by its lowest step, the search's default (last) notwithstanding.
      for (const c of r.candidates) expect(c.aggregatedScore).toBe(Math.min(...c.stepScores));
    },
  );

  it('refuses a search that aggregates otherwise than the table before any backend call', async () => {
    const backend = new ScriptedBackend(script());
    await expect(
      search(Q, { backend, strategy: 'compute-optimal', n: 10, aggregation: 'min', calibration: tableFor(0.5, 3) }),
    ).rejects.toThrow(/thresholds were measured with aggregation `last`, but this search asks for `min`/);
    expect(backend.totalCalls).toBe(0);
  });

  it('rejects a table made for another model before any backend call', async () => {
    const backend = new ScriptedBackend(script());
    const table = tableFor(0.5, 3, { policyId: 'someone-else', prmId: 'scripted-prm' });
    await expect(search(Q, { backend, strategy: 'compute-optimal', n: 10, calibration: table })).rejects.toThrow(
      /made for policy someone-else with PRM scripted-prm, but the backend runs policy scripted-policy/,
    );
    expect(backend.totalCalls).toBe(0);
  });

  it('matches checkpoints by their weights hash, not by the folder they were loaded from', async () => {
    const ids = { policyId: 'policy@0123456789ab', prmId: 'prm@ba9876543210' };
    const renamed = new ScriptedBackend(script(), { policyId: 'my-policy@0123456789ab', prmId: 'prm-copy@ba9876543210' });
    const r = await search(Q, { backend: renamed, strategy: 'compute-optimal', n: 10, calibration: tableFor(0.5, 3, ids) });
    expect(r.usage.generations).toBe(SAMPLES + BUDGET);

    // Same folder name, other weights: refused.
    const retrained = new ScriptedBackend(script(), { policyId: 'policy@0123456789ab', prmId: 'prm@ba9876543211' });
    await expect(search(Q, { backend: retrained, strategy: 'compute-optimal', n: 10, calibration: tableFor(0.5, 3, ids) })).rejects.toThrow(
      /made for policy policy@0123456789ab with PRM prm@ba9876543210, but the backend runs policy policy@0123456789ab with PRM prm@ba9876543211/,
    );
    expect(retrained.totalCalls).toBe(0);

    // An id without a hash never matches a hashed one by its name.
    const unhashed = new ScriptedBackend(script(), { policyId: 'policy', prmId: 'prm' });
    await expect(
      search(Q, { backend: unhashed, strategy: 'compute-optimal', n: 10, calibration: tableFor(0.5, 3, ids) }),
    ).rejects.toBeInstanceOf(OptionError);
  });

  it('rejects a budget that leaves no calibrated budget after the difficulty samples', async () => {
    const backend = new ScriptedBackend(script());
    await expect(
      search(Q, { backend, strategy: 'compute-optimal', n: 9, calibration: tableFor(0.5, 3) }),
    ).rejects.toBeInstanceOf(OptionError);
    expect(backend.totalCalls).toBe(0);
  });
});

describe('fitCalibration', () => {
  // Ten questions with difficulty 0.1 … 1.0; beam is right on the hard half, best-of-n on the easy half.
  const rows: CalibrationRow[] = [];
  for (let i = 1; i <= 10; i++) {
    const d = i / 10;
    rows.push({ question: `q${i}`, difficulty: d, budget: 4, strategy: 'beam', params: { beamWidth: 2 }, correct: d <= 0.5 });
    rows.push({ question: `q${i}`, difficulty: d, budget: 4, strategy: 'best-of-n', params: {}, correct: d > 0.5 });
  }
  const table = fitCalibration(rows, { policyId: 'p', prmId: 'r', difficultySamples: 3, aggregation: 'min' });

  it('puts the thresholds at the quintiles of the difficulty scores (linear interpolation)', () => {
    // Sorted 0.1 … 1.0: the 20% quantile sits at position 1.8 → 0.2 + 0.8 × 0.1 = 0.28, etc.
    expect(table.thresholds).toHaveLength(4);
    [0.28, 0.46, 0.64, 0.82].forEach((t, i) => expect(table.thresholds[i]).toBeCloseTo(t, 12));
  });

  it('chooses the most accurate configuration per budget and level', () => {
    // Levels: 5 = {0.1, 0.2}, 4 = {0.3, 0.4}, 3 = {0.5, 0.6} (a tie: the first configuration), 2, 1 easy.
    expect(table.choices['4']).toEqual({
      '5': { strategy: 'beam', params: { beamWidth: 2 } },
      '4': { strategy: 'beam', params: { beamWidth: 2 } },
      '3': { strategy: 'beam', params: { beamWidth: 2 } },
      '2': { strategy: 'best-of-n', params: {} },
      '1': { strategy: 'best-of-n', params: {} },
    });
    expect(table).toMatchObject({ version: CALIBRATION_VERSION, policyId: 'p', prmId: 'r', difficultySamples: 3, aggregation: 'min' });
  });

  const dir = mkdtempSync(path.join(tmpdir(), 'thinktree-cal-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('saves and loads a table unchanged', async () => {
    const file = path.join(dir, 'table.json');
    await saveCalibration(file, table);
    expect(await loadCalibration(file)).toEqual(table);
  });

  it('refuses to load a table with a level missing', async () => {
    const file = path.join(dir, 'broken.json');
    const broken = structuredClone(table) as CalibrationTable;
    delete broken.choices['4']!['3'];
    writeFileSync(file, JSON.stringify(broken));
    await expect(loadCalibration(file)).rejects.toThrow('no choice for budget 4, level 3');
  });

  it('refuses a table that does not say how its difficulty was aggregated', () => {
    const { aggregation: _, ...without } = table;
    expect(() => checkCalibration(without)).toThrow('Invalid calibration table: aggregation undefined, expected one of last, min, prod, mean');
    expect(() => checkCalibration({ ...table, aggregation: 'max' })).toThrow(/aggregation max, expected/);
  });
});

describe('difficultyScore', () => {
  const solutions = [{ stepScores: [0.9, 0.2, 0.8] }, { stepScores: [] }, { stepScores: [0.5, 0.6] }];

  it('averages the scored solutions’ aggregated scores', () => {
    expect(difficultyScore(solutions, 'min')).toBeCloseTo((0.2 + 0.5) / 2, 12);
    expect(difficultyScore(solutions, 'last')).toBeCloseTo((0.8 + 0.6) / 2, 12);
    expect(difficultyScore(solutions, 'prod')).toBeCloseTo((0.9 * 0.2 * 0.8 + 0.5 * 0.6) / 2, 12);
  });

  it('is NaN when nothing was scored', () => {
    expect(difficultyScore([{ stepScores: [] }], 'min')).toBeNaN();
  });
});
