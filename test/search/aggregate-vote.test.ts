import { describe, expect, it } from 'vitest';
import { aggregateScores } from '../../lib/search/aggregate.js';
import { answersEqual, mathAnswerKey } from '../../lib/tasks/math/answers.js';
import { search } from '../../lib/search/search.js';
import { groupByAnswer, select, type Ballot } from '../../lib/search/vote.js';
import { ScriptedBackend, treeScript } from './scripted-backend.js';

describe('aggregateScores', () => {
  const scores = [0.5, 0.8, 0.4];
  it.each([
    ['last', 0.4],
    ['min', 0.4],
    ['prod', 0.16],
    ['mean', 1.7 / 3],
  ] as const)('%s of [0.5, 0.8, 0.4] is %f', (how, want) => {
    expect(aggregateScores(scores, how)).toBeCloseTo(want, 12);
  });

  it('gives null for a path without scores', () => {
    expect(aggregateScores([], 'last')).toBeNull();
  });
});

describe('select', () => {
  // x: 0.9; y: 0.5 + 0.45 = 0.95; z: 0.3 × 3 = 0.9 (weighted → y, naive → x, majority → z)
  const ballots: Ballot[] = [
    { answer: 'x', score: 0.9 },
    { answer: 'y', score: 0.5 },
    { answer: 'z', score: 0.3 },
    { answer: 'y', score: 0.45 },
    { answer: 'z', score: 0.3 },
    { answer: 'z', score: 0.3 },
  ];
  const eq = (a: string, b: string) => a === b;

  it('weighted voting sums the scores per answer and picks the best member of the top answer', () => {
    expect(select(ballots, 'weighted', eq)).toBe(1);
  });

  it('naive best-of-n picks the single best score', () => {
    expect(select(ballots, 'naive', eq)).toBe(0);
  });

  it('majority picks the first member of the largest answer group', () => {
    expect(select(ballots, 'majority', eq)).toBe(2);
  });

  it('groups equivalent answers with the task equivalence', () => {
    // 1/2 family: 0.9 + 0.2 + 0.15 = 1.25 beats 3: 0.6 + 0.5 = 1.1; the answerless 0.99 does not vote.
    const b: Ballot[] = [
      { answer: '1/2', score: 0.9 },
      { answer: '3', score: 0.6 },
      { answer: '\\frac{1}{2}', score: 0.2 },
      { answer: '3', score: 0.5 },
      { answer: '0.5', score: 0.15 },
      { answer: null, score: 0.99 },
    ];
    expect(select(b, 'weighted', answersEqual)).toBe(0);
    expect(select(b, 'naive', answersEqual)).toBe(5);
  });

  it('groups symbolically equal answers (fractions, decimals, powers, choice letters) into one vote', () => {
    // 1/4 family: 0.3 × 3 = 0.9 beats 0.8 for 9 written once; 3^{2} joins 9's group: 0.8 + 0.25 = 1.05 wins.
    const b: Ballot[] = [
      { answer: '0.25', score: 0.3 },
      { answer: '9', score: 0.8 },
      { answer: '\\frac14', score: 0.3 },
      { answer: '\\frac{2}{8}', score: 0.3 },
      { answer: '3^{2}', score: 0.25 },
    ];
    expect(groupByAnswer(b, answersEqual, mathAnswerKey)).toEqual([[0, 2, 3], [1, 4]]);
    expect(select(b, 'majority', answersEqual, mathAnswerKey)).toBe(0);
    expect(select(b, 'weighted', answersEqual, mathAnswerKey)).toBe(1);
    const letters: Ballot[] = ['\\text{(B)}', 'A', 'B', '(B)'].map((answer) => ({ answer, score: 0.5 }));
    expect(groupByAnswer(letters, answersEqual, mathAnswerKey)).toEqual([[0, 2, 3], [1]]);
  });

  it('groups the same way with and without the key, in ballot order', () => {
    const answers = ['\\frac12', '(1,2)', '0.5', '(2,1)', '1/2', '(1, 2)', '2^{-1}', '\\sqrt{4}', '2'];
    const b: Ballot[] = answers.map((answer) => ({ answer, score: 0.1 }));
    const want = [[0, 2, 4, 6], [1, 5], [3], [7, 8]];
    expect(groupByAnswer(b, answersEqual, mathAnswerKey)).toEqual(want);
    expect(groupByAnswer(b, answersEqual)).toEqual(want);
  });

  it('asks the equivalence once per pair of distinct keys at most', () => {
    let calls = 0;
    const counting = (x: string, y: string) => (calls++, answersEqual(x, y));
    const b: Ballot[] = Array.from({ length: 64 }, (_, i) => ({ answer: ['1', '2', '3', '4'][i % 4]!, score: 0.1 }));
    expect(groupByAnswer(b, counting, mathAnswerKey)).toHaveLength(4);
    expect(calls).toBeLessThanOrEqual(6);
  });

  it('falls back to the best score when no candidate has an answer', () => {
    expect(select([{ answer: null, score: 0.1 }, { answer: null, score: 0.7 }], 'weighted', answersEqual)).toBe(1);
  });
});

it('weighted-best-of-n answers with the largest per-answer sum of aggregated scores', async () => {
  const backend = new ScriptedBackend(
    treeScript({ depth: 2, answers: [{ answer: '1', p: 0.3 }, { answer: '2', p: 0.3 }, { answer: '3', p: 0.4 }] }),
  );
  const r = await search('q', { backend, strategy: 'weighted-best-of-n', n: 12, aggregation: 'min' });
  const sums = new Map<string, number>();
  for (const c of r.candidates) {
    const min = Math.min(...c.stepScores);
    sums.set(c.answer!, (sums.get(c.answer!) ?? 0) + min);
  }
  const want = [...sums].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  expect(sums.size).toBeGreaterThan(1);
  expect(r.answer).toBe(want);
  expect(backend.live.size).toBe(0);
});
