import { describe, expect, it } from 'vitest';
import { buildPlan, parseBudgets, parseStrategies } from '../../lib/eval/plan.js';
import { fitCalibration } from '../../lib/search/calibration-table.js';

// A table calibrated at budgets 2 and 14 with 2 difficulty samples: serves totals 4.. and 16...
const table = fitCalibration(
  [2, 14].flatMap((budget) => [0.2, 0.8].map((difficulty, q) => ({ question: `q${q}`, difficulty, budget, strategy: 'majority' as const, correct: true }))),
  { policyId: 'p', prmId: 'r', difficultySamples: 2, aggregation: 'last', levels: 2 },
);

describe('buildPlan', () => {
  it('puts greedy first: majority with one sample at temperature 0, at budget 1', () => {
    const { configs } = buildPlan({ strategies: ['majority'], budgets: [4] });
    expect(configs[0]).toEqual({ label: 'greedy', strategy: 'majority', budget: 1, params: { n: 1, temperature: 0 } });
  });

  it('makes one configuration per strategy and budget, budgets ascending', () => {
    const { configs } = buildPlan({ strategies: ['majority', 'weighted-best-of-n'], budgets: [16, 1, 4], greedy: false });
    expect(configs.map((c) => `${c.label}@${c.budget}`)).toEqual([
      'majority@1', 'majority@4', 'majority@16', 'weighted-best-of-n@1', 'weighted-best-of-n@4', 'weighted-best-of-n@16',
    ]);
  });

  it('gives beam and DVTS beam width min(4, budget) by default', () => {
    const { configs } = buildPlan({ strategies: ['beam', 'dvts'], budgets: [1, 2, 4, 16], greedy: false });
    expect(configs.map((c) => c.params.beamWidth)).toEqual([1, 2, 4, 4, 1, 2, 4, 4]);
  });

  it('refuses a budget the beam width does not divide, naming both', () => {
    expect(() => buildPlan({ strategies: ['beam'], budgets: [4, 6], beamWidth: 4 })).toThrow(
      /Budget 6 is not divisible by beam width 4/,
    );
  });

  it('refuses a budget the default beam width does not divide', () => {
    expect(() => buildPlan({ strategies: ['dvts'], budgets: [6] })).toThrow(/Budget 6 is not divisible by beam width 4: dvts/);
  });

  it('counts lookahead budgets in generations: n = budget / (k + 1), rollouts included', () => {
    const { configs, skipped } = buildPlan({ strategies: ['lookahead', 'beam'], budgets: [1, 4, 16, 64], greedy: false });
    const la = configs.filter((c) => c.label === 'lookahead');
    expect(la.map((c) => [c.budget, c.params.n, c.params.beamWidth])).toEqual([[4, 2, 2], [16, 8, 4], [64, 32, 4]]);
    expect(skipped).toEqual([
      { label: 'lookahead', budget: 1, reason: 'each candidate costs 2 generations (its lookahead rollout included), which does not divide 1' },
    ]);
    // Beam search without rollouts spends one generation a candidate.
    expect(configs.filter((c) => c.label === 'beam').map((c) => c.params.n)).toEqual([1, 4, 16, 64]);
    // Three rollout steps: four generations a candidate.
    const deep = buildPlan({ strategies: ['lookahead'], budgets: [16], greedy: false, params: { lookahead: 3 } });
    expect(deep.configs.map((c) => [c.budget, c.params.n, c.params.beamWidth])).toEqual([[16, 4, 4]]);
  });

  it('names the candidate count when the beam width does not divide it', () => {
    expect(() => buildPlan({ strategies: ['lookahead'], budgets: [4], beamWidth: 4 })).toThrow(
      /Budget 4 \(2 candidates of 2 generations each\) is not divisible by beam width 4: lookahead .* multiples of 8/,
    );
  });

  it('ignores the beam width for strategies that do not group', () => {
    expect(() => buildPlan({ strategies: ['majority'], budgets: [6], beamWidth: 4 })).not.toThrow();
  });

  it('lists the known strategies when one is unknown', () => {
    expect(() => buildPlan({ strategies: ['beem'], budgets: [4] })).toThrow(
      /Unknown strategy `beem`; known strategies: greedy, majority, best-of-n, weighted-best-of-n, beam, lookahead, dvts, mcts, revisions, compute-optimal/,
    );
  });

  it('refuses a strategy that scores steps when there is no PRM', () => {
    expect(() => buildPlan({ strategies: ['beam'], budgets: [4], hasPrm: false })).toThrow(/beam at budget 4: .*pass a PRM/);
  });

  it('accepts majority without a PRM', () => {
    expect(buildPlan({ strategies: ['majority'], budgets: [4], hasPrm: false }).configs).toHaveLength(2);
  });

  it('checks the shared parameters with each configuration', () => {
    expect(() => buildPlan({ strategies: ['majority'], budgets: [4], params: { maxStepTokens: 0 } })).toThrow(/maxStepTokens/);
  });

  it('refuses compute-optimal without a calibration table', () => {
    expect(() => buildPlan({ strategies: ['compute-optimal'], budgets: [4] })).toThrow(/needs a calibration table/);
  });

  it('skips compute-optimal where no calibrated budget fits after the difficulty samples', () => {
    const plan = buildPlan({ strategies: ['compute-optimal'], budgets: [1, 3, 4, 16], calibration: table, greedy: false });
    expect(plan.configs.map((c) => c.budget)).toEqual([4, 16]);
    expect(plan.skipped.map((s) => s.budget)).toEqual([1, 3]);
    expect(plan.skipped[0]!.reason).toMatch(/after 2 difficulty samples no calibrated budget \(2, 14\) fits in 1/);
  });
});

describe('parseBudgets and parseStrategies', () => {
  it('parses budgets into ascending distinct integers', () => {
    expect(parseBudgets('16, 1,4,4')).toEqual([1, 4, 16]);
  });

  it.each(['0', '1,,4', '2.5', 'x', '-4'])('rejects the budget list %j', (text) => {
    expect(() => parseBudgets(text)).toThrow(/Budgets must be positive integers/);
  });

  it('parses a strategy list, dropping duplicates', () => {
    expect(parseStrategies('beam,majority,beam')).toEqual(['beam', 'majority']);
  });
});
