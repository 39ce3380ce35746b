import { describe, expect, it } from 'vitest';
import { aggregateResults, levelGroups, parseLevelGroups, poolRows } from '../../lib/eval/aggregate.js';
import { result } from './helpers.js';

describe('aggregateResults', () => {
  const results = [
    result('beam', 4, 1, true, 100, 10),
    result('beam', 4, 1, false, 300, 30),
    result('beam', 4, 1, true, 200, 20),
    result('beam', 4, 2, false, 50, 5),
    result('greedy', 1, 1, true, 7, 1),
    result('beam', 1, 1, false, 9, 2),
  ];

  it('counts problems and correct answers per strategy, budget and level', () => {
    const rows = aggregateResults(results);
    const beam41 = rows.find((r) => r.strategy === 'beam' && r.budget === 4 && r.level === 1)!;
    expect(beam41).toMatchObject({ n: 3, correct: 2 });
    expect(beam41.accuracy).toBeCloseTo(2 / 3, 12);
  });

  it('sums flops and tokens over the problems of a row', () => {
    const beam41 = aggregateResults(results).find((r) => r.strategy === 'beam' && r.budget === 4 && r.level === 1)!;
    expect(beam41.flops).toBe(600);
    expect(beam41.tokens).toBe(60);
  });

  it('orders rows by first appearance of the strategy, then budget, then level', () => {
    expect(aggregateResults(results).map((r) => [r.strategy, r.budget, r.level])).toEqual([
      ['beam', 1, 1],
      ['beam', 4, 1],
      ['beam', 4, 2],
      ['greedy', 1, 1],
    ]);
  });

  it('gives every row exactly the fields of the results table', () => {
    for (const row of aggregateResults(results)) {
      expect(Object.keys(row).sort()).toEqual(['accuracy', 'budget', 'correct', 'flops', 'level', 'n', 'strategy', 'tokens']);
    }
  });
});

describe('poolRows', () => {
  it('merges the levels of a group, recomputing accuracy from the pooled counts', () => {
    const rows = aggregateResults([
      result('majority', 4, 1, true, 1, 1),
      result('majority', 4, 2, false, 2, 2),
      result('majority', 4, 2, false, 3, 3),
      result('majority', 4, 3, true, 4, 4),
    ]);
    const pooled = poolRows(rows, { title: 'Levels 1–2', levels: [1, 2] });
    expect(pooled).toHaveLength(1);
    expect(pooled[0]).toMatchObject({ strategy: 'majority', budget: 4, n: 3, correct: 1, flops: 6, tokens: 6 });
    expect(pooled[0]!.accuracy).toBeCloseTo(1 / 3, 12);
  });
});

describe('levelGroups', () => {
  it('makes one group per level present, then all levels', () => {
    expect(levelGroups([3, 1, 3])).toEqual([
      { title: 'Level 1', levels: [1] },
      { title: 'Level 3', levels: [3] },
      { title: 'All levels', levels: [1, 3] },
    ]);
  });

  it('has no "all levels" group when there is only one group', () => {
    expect(levelGroups([2, 2])).toEqual([{ title: 'Level 2', levels: [2] }]);
  });

  it('parses a spec of ranges, dropping levels absent from the data', () => {
    expect(levelGroups([1, 2, 3, 4], '1-2,3,4-5').map((g) => [g.title, g.levels])).toEqual([
      ['Levels 1–2', [1, 2]],
      ['Level 3', [3]],
      ['Level 4', [4]],
      ['All levels', [1, 2, 3, 4]],
    ]);
  });

  it('rejects a malformed spec', () => {
    expect(() => levelGroups([1], '1..2')).toThrow(/Level groups look like 1-2,3,4-5/);
  });

  it('parses any levels in a spec, whatever the data holds', () => {
    expect(parseLevelGroups('12-13, 7')).toEqual([[12, 13], [7]]);
  });

  it('rejects a range that runs backwards', () => {
    expect(() => levelGroups([1, 2], '2-1')).toThrow(/runs backwards/);
  });
});
