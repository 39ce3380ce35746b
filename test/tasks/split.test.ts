import { describe, expect, it } from 'vitest';
import { generateProblems } from '../../lib/tasks/arithmetic/problem.js';
import {
  SplitExhaustedError, generateSplit, generateSplits, normaliseProblemText, splitOf, structureKey, type SplitName,
} from '../../lib/tasks/arithmetic/split.js';

function overlap(a: readonly string[], b: readonly string[]): string[] {
  const set = new Set(a);
  return b.filter((x) => set.has(x));
}

describe('normaliseProblemText', () => {
  it('ignores case, punctuation and spacing', () => {
    expect(normaliseProblemText('Ana has 37 apples.  She buys 48 more?')).toBe(normaliseProblemText('ana has 37 apples she buys 48 MORE'));
    expect(normaliseProblemText('Ana has 37 apples.')).toBe('ana has 37 apples');
  });

  it('keeps numbers apart', () => {
    expect(normaliseProblemText('has 3 7 apples')).not.toBe(normaliseProblemText('has 37 apples'));
  });
});

describe('splits', () => {
  it('never shares a normalised text between the three splits of one call', () => {
    const s = generateSplits({ seed: 5, level: 1, sizes: { train: 400, calibration: 100, test: 100 } });
    const norm = (split: SplitName) => s[split].map((p) => normaliseProblemText(p.text));
    expect(overlap(norm('train'), norm('test'))).toEqual([]);
    expect(overlap(norm('train'), norm('calibration'))).toEqual([]);
    expect(overlap(norm('calibration'), norm('test'))).toEqual([]);
    expect(s.train).toHaveLength(400);
    expect(s.test).toHaveLength(100);
  });

  it('keeps splits disjoint by content even when generated separately with different seeds', () => {
    // Level 1 has few distinct structures, so collisions would show up here if splits were seed-based.
    const train = generateSplit({ seed: 1, n: 1000, level: 1, split: 'train' });
    const test = generateSplit({ seed: 2, n: 300, level: 1, split: 'test' });
    const calibration = generateSplit({ seed: 3, n: 300, level: 1, split: 'calibration' });
    const keys = (ps: typeof train) => ps.map((p) => structureKey(p.structured));
    expect(overlap(keys(train), keys(test))).toEqual([]);
    expect(overlap(keys(train), keys(calibration))).toEqual([]);
    expect(overlap(keys(test), keys(calibration))).toEqual([]);
    const texts = (ps: typeof train) => ps.map((p) => normaliseProblemText(p.text));
    expect(overlap(texts(train), texts(test))).toEqual([]);
  });

  it('returns no repeated text within a split', () => {
    const test = generateSplit({ seed: 4, n: 500, level: 1, split: 'test' });
    const texts = test.map((p) => normaliseProblemText(p.text));
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('returns only problems whose structure belongs to the split', () => {
    const calibration = generateSplit({ seed: 4, n: 200, level: 3, split: 'calibration' });
    expect(calibration.filter((p) => splitOf(p.structured) !== 'calibration')).toEqual([]);
  });

  it('gives the same split for the same seed', () => {
    const a = generateSplit({ seed: 8, n: 50, level: 4, split: 'test' }).map((p) => p.text);
    const b = generateSplit({ seed: 8, n: 50, level: 4, split: 'test' }).map((p) => p.text);
    expect(a).toEqual(b);
  });

  it('assigns about a tenth of structures to test, a tenth to calibration, the rest to train', () => {
    const problems = generateProblems({ seed: 12, n: 10_000, level: 4 });
    const counts = { train: 0, calibration: 0, test: 0 };
    for (const p of problems) counts[splitOf(p.structured)]++;
    expect(counts.test / problems.length).toBeCloseTo(0.1, 1);
    expect(counts.calibration / problems.length).toBeCloseTo(0.1, 1);
    expect(counts.train / problems.length).toBeCloseTo(0.8, 1);
  });

  it('avoids texts already in a shared seen set', () => {
    const seen = new Set<string>();
    const first = generateSplit({ seed: 6, n: 100, level: 2, split: 'train', seen });
    const again = generateSplit({ seed: 6, n: 100, level: 2, split: 'train', seen });
    expect(overlap(first.map((p) => p.text), again.map((p) => p.text))).toEqual([]);
    expect(seen.size).toBe(200);
  });

  it('throws a SplitExhaustedError instead of looping when the draws run out', () => {
    expect(() => generateSplit({ seed: 1, n: 50, level: 1, split: 'test', maxDraws: 60 })).toThrow(SplitExhaustedError);
  });
});
