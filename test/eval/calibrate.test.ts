import { describe, expect, it } from 'vitest';
import { calibratedBudgets, calibrationCandidates, runCalibration } from '../../lib/eval/calibrate.js';
import type { EvalRecord } from '../../lib/eval/dataset.js';
import type { CalibrationTable } from '../../lib/search/calibration-table.js';
import { FakeSearcher } from './fake-searcher.js';

describe('calibrationCandidates', () => {
  it('tries weighted best-of-n, beam, DVTS and majority', () => {
    expect(calibrationCandidates(16).map((c) => c.strategy)).toEqual(['weighted-best-of-n', 'beam', 'dvts', 'majority']);
  });

  it('runs beam and DVTS with M = 4 on a budget that 4 divides', () => {
    expect(calibrationCandidates(16)[1]!.params).toEqual({ beamWidth: 4 });
  });

  it('runs beam with the largest multiple of M that fits a budget M does not divide', () => {
    expect(calibrationCandidates(14)[1]!.params).toEqual({ n: 12, beamWidth: 4 });
  });

  it('narrows M to budgets below 4', () => {
    expect(calibrationCandidates(2)[2]!.params).toEqual({ beamWidth: 2 });
  });
});

describe('calibratedBudgets', () => {
  it('subtracts the difficulty samples from each total', () => {
    expect(calibratedBudgets([64, 4, 16], 2)).toEqual([2, 14, 62]);
  });

  it('refuses a total the difficulty samples use up', () => {
    expect(() => calibratedBudgets([2, 4], 2)).toThrow(/Budget 2 leaves nothing after 2 difficulty samples/);
  });
});

describe('runCalibration', () => {
  const records: EvalRecord[] = [0, 1, 2, 3].map((i) => ({ problem: `q${i}`, answer: '7', level: 1, uniqueId: `u${i}` }));
  // The difficulty compute-optimal's samples give: q0, q1 easy (0.8), q2 hard (0.2), q3 nothing scored.
  const difficulty: Record<string, number> = { q0: 0.8, q1: 0.8, q2: 0.2, q3: Number.NaN };
  const forced = (o: { calibration?: CalibrationTable }) => {
    const [budget, byLevel] = Object.entries(o.calibration!.choices)[0]!;
    return { budget: Number(budget), ...byLevel['1']! };
  };
  // Majority answers the easy questions, beam search the hard ones; nothing else is ever right.
  const fake = () =>
    new FakeSearcher((q, o) => {
      const { budget, strategy, params } = forced(o);
      const easy = q === 'q0' || q === 'q1';
      const right = (easy && strategy === 'majority') || (!easy && strategy === 'beam');
      const chosen = { strategy, params };
      return { answer: right ? '7' : '8', details: { kind: 'compute-optimal', difficulty: difficulty[q]!, level: 1, budget, chosen } };
    });
  const options = { budgets: [4, 16], policyId: 'pol', prmId: 'prm', difficultySamples: 2, levels: 2 };

  it('takes each question’s difficulty from its compute-optimal runs, nothing scored as 0', async () => {
    const run = await runCalibration(fake(), records, options);
    const perQuestion = new Map(run.rows.map((r) => [r.question, new Set<number>()]));
    for (const r of run.rows) perQuestion.get(r.question)!.add(r.difficulty);
    expect([...perQuestion].map(([q, ds]) => [q, [...ds]])).toEqual([['u0', [0.8]], ['u1', [0.8]], ['u2', [0.2]], ['u3', [0]]]);
  });

  it('records one row per question, calibrated budget and candidate', async () => {
    const run = await runCalibration(fake(), records, options);
    expect(run.rows).toHaveLength(4 * 2 * 4);
    expect(run.rows.filter((r) => r.correct).map((r) => `${r.question}:${r.strategy}@${r.budget}`).sort()).toEqual([
      'u0:majority@14', 'u0:majority@2', 'u1:majority@14', 'u1:majority@2', 'u2:beam@14', 'u2:beam@2', 'u3:beam@14', 'u3:beam@2',
    ]);
  });

  it('fits a table that picks majority for easy questions and beam search for hard ones', async () => {
    const { table } = await runCalibration(fake(), records, options);
    // No aggregation given: the search's default, under which the difficulty was measured.
    expect(table).toMatchObject({ policyId: 'pol', prmId: 'prm', difficultySamples: 2, aggregation: 'last', thresholds: [0.5] });
    expect(table.choices['14']).toEqual({
      '1': { strategy: 'majority', params: {} },
      '2': { strategy: 'beam', params: { n: 12, beamWidth: 4 } },
    });
    expect(table.choices['2']!['2']).toEqual({ strategy: 'beam', params: { beamWidth: 2 } });
  });

  it('runs every candidate as compute-optimal with it as the only choice, the samples counted in n', async () => {
    const s = fake();
    await runCalibration(s, records, { ...options, params: { maxStepTokens: 11, aggregation: 'min' }, seed: 5 });
    const q2 = s.calls.filter((c) => c.question === 'q2');
    expect(q2).toHaveLength(2 * 4);
    expect(q2.every((c) => c.options.strategy === 'compute-optimal' && c.options.seed === 7 && c.options.maxStepTokens === 11)).toBe(true);
    for (const c of q2) {
      const table = c.options.calibration!;
      expect(table).toMatchObject({ policyId: 'pol', prmId: 'prm', difficultySamples: 2, aggregation: 'min', thresholds: [] });
      expect(c.options.n).toBe(2 + forced(c.options).budget);
    }
    const beams = q2.map((c) => forced(c.options)).filter((f) => f.strategy === 'beam');
    expect(beams.map((f) => [f.budget, f.params])).toEqual([[2, { beamWidth: 2 }], [14, { n: 12, beamWidth: 4 }]]);
  });
});
