import { describe, expect, it } from 'vitest';
import { answersEqual, mathAnswerKey } from '../../lib/tasks/math/answers.js';
import { DEFAULT_SYMBOLIC_LIMITS, symbolicEqual } from '../../lib/tasks/math/symbolic.js';

type Pair = [a: string, b: string];

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** p/q for the denominators whose decimals terminate, in lowest terms. */
function terminatingFractions(): [number, number][] {
  const out: [number, number][] = [];
  for (const q of [2, 4, 5, 8, 16, 20, 25, 40]) for (let p = 1; p < q; p += 3) if (gcd(p, q) === 1) out.push([p, q]);
  return out;
}

const fractionsDecimals: Pair[] = terminatingFractions().flatMap(([p, q]) => [
  [`\\frac{${p}}{${q}}`, String(p / q)],
  [p < 10 ? `\\dfrac${p}{${q}}` : `\\dfrac{${p}}{${q}}`, `${p} / ${q}`],
  [`-\\frac{${p}}{${q}}`, String(-p / q)],
]);
const fractionsDecimalsUnequal: Pair[] = terminatingFractions().map(([p, q]) => [`\\frac{${p}}{${q}}`, String(p / q + 0.01)]);

const scaledFractions: Pair[] = [2, 3, 7].flatMap((k) =>
  [[1, 3], [2, 7], [5, 9], [4, 11]].map(([p, q]): Pair => [`\\frac{${k * p!}}{${k * q!}}`, `\\frac{${p}}{${q}}`]),
);
const scaledFractionsUnequal: Pair[] = [[1, 3], [2, 7], [5, 9], [4, 11]].map(([p, q]): Pair => [
  `\\frac{${p! + 1}}{${q}}`,
  `\\frac{${p}}{${q}}`,
]);

const radicals: Pair[] = [2, 3, 5].flatMap((a) =>
  [2, 3, 5, 6, 7].flatMap((b): Pair[] => [
    [`\\sqrt{${a * a * b}}`, `${a}\\sqrt{${b}}`],
    [`\\frac{\\sqrt{${b}}}{${b}}`, `\\frac{1}{\\sqrt{${b}}}`],
    [`\\frac{${a}\\sqrt${b}}{2}`, `${a}\\sqrt{${b}}/2`],
  ]),
);
const radicalsUnequal: Pair[] = [2, 3, 5].flatMap((a) =>
  [2, 3, 5, 6, 7].map((b): Pair => [`\\sqrt{${a * a * b}}`, `${a + 1}\\sqrt{${b}}`]),
);

const powers: Pair[] = [2, 3, 5].flatMap((a) =>
  [2, 3, 4].flatMap((n): Pair[] => [
    [`${a}^{${n}}`, String(a ** n)],
    [`${a}^{-${n}}`, `\\frac{1}{${a ** n}}`],
  ]),
);
const powersUnequal: Pair[] = [2, 3, 5].flatMap((a) => [2, 3, 4].map((n): Pair => [`${a}^{${n}}`, String(a ** n + 1)]));

const tuples: Pair[] = [
  ['(1,2)', '(1, 2)'],
  ['(\\frac12, 3)', '(0.5,3)'],
  ['(2^{2}, -1)', '(4,-1)'],
  ['(\\sqrt{8}, 0.25)', '(2\\sqrt2, \\frac14)'],
  ['\\left(3, \\frac{6}{8}\\right)', '(3,\\frac34)'],
];
const tuplesReordered: Pair[] = [
  ['(1,2)', '(2,1)'],
  ['(\\frac12, 3)', '(3, 0.5)'],
  ['(4,-1)', '(-1,4)'],
  ['(1,2,3)', '(1,3,2)'],
  ['1, 2', '2, 1'],
  ['(1,2)', '(1,2,3)'],
];

const letters = ['A', 'B', 'C', 'D', 'E'];
const choiceForms = (x: string) => [x, `(${x})`, `\\text{(${x})}`, `\\textbf{(${x})}`, `\\text{${x}}`];
const choices: Pair[] = letters.flatMap((x) => choiceForms(x).slice(1).map((f): Pair => [f, x]));
const choicesUnequal: Pair[] = letters.flatMap((x, i) => {
  const y = letters[(i + 1) % letters.length]!;
  return [[`\\text{(${x})}`, y] as Pair, [`(${x})`, `(${y})`] as Pair];
});

const units: Pair[] = [3, 12, 0.5].flatMap((n): Pair[] => [
  [`${n}\\text{ cm}`, String(n)],
  [`${n}\\text{cm}`, String(n)],
  [`${n} \\mbox{ inches}`, String(n)],
  [`${n} meters`, String(n)],
  [`${n}\\text{ square units}`, String(n)],
  [`${n}\\text{ cm}^2`, String(n)],
]);
const unitsUnequal: Pair[] = [3, 12].flatMap((n): Pair[] => [
  [`${n}\\text{ cm}`, String(n + 1)],
  [`${n} meters`, `${n + 1} meters`],
]);
const text: Pair[] = [
  ['\\text{Monday}', 'Monday'],
  ['\\text{east}', 'East'],
  ['\\textbf{odd}', 'odd'],
  ['\\text{no solution}', 'No solution'],
];
const textUnequal: Pair[] = [
  ['\\text{Monday}', 'Tuesday'],
  ['Monday', 'Mondya'],
  ['\\text{even}', 'odd'],
  ['xy = 5', '5'],
];

const intervals: Pair[] = [
  ['[1,2)', '[1, 2)'],
  ['[\\frac12, 3)', '[0.5,3)'],
  ['(-\\infty, 3]', '(-\\infty,3]'],
  ['(-\\infty, \\frac{6}{8}]', '(-\\infty,0.75]'],
  ['(-\\infty,1)\\cup(2,\\infty)', '(2,\\infty)\\cup(-\\infty,1)'],
  ['\\left[2^{2}, \\sqrt{25}\\right]', '[4,5]'],
];
const intervalsUnequal: Pair[] = [
  ['[1,2)', '[1,2]'],
  ['(1,2]', '[1,2]'],
  ['(-\\infty, 3]', '(-\\infty,3)'],
  ['[0.5,3)', '[0.25,3)'],
  ['(-\\infty,1)\\cup(2,\\infty)', '(-\\infty,1]\\cup(2,\\infty)'],
];

const sets: Pair[] = [
  ['\\{1,2,3\\}', '\\{3,1,2\\}'],
  ['\\{\\frac12, 2\\}', '\\{2, 0.5\\}'],
];
const setsUnequal: Pair[] = [
  ['\\{1,2,3\\}', '\\{1,2,4\\}'],
  ['\\{1,2\\}', '\\{1,2,3\\}'],
];

const algebra: Pair[] = [
  ['x^2+2x+1', '(x+1)^2'],
  ['2x+3', '3+2x'],
  ['\\frac{x}{2}', '0.5x'],
  ['2\\pi r', '2r\\pi'],
  ['\\sin(\\pi/6)', '\\frac12'],
  ['\\log_2 8', '3'],
];
const algebraUnequal: Pair[] = [
  ['x^2+1', '(x+1)^2'],
  ['2x+3', '3x+2'],
  ['\\pi', '3.14159'],
  ['\\frac{1}{3}', '0.333'],
  ['\\sqrt{2}', '1.414'],
];

const equalGroups: Record<string, Pair[]> = {
  'fractions and decimals': fractionsDecimals,
  'scaled fractions': scaledFractions,
  'equivalent radicals': radicals,
  powers,
  'tuples written differently': tuples,
  'choice letters': choices,
  'numbers with units': units,
  'words in \\text': text,
  intervals,
  'sets in any order': sets,
  'expressions in a variable': algebra,
};
const unequalGroups: Record<string, Pair[]> = {
  'fractions and nearby decimals': fractionsDecimalsUnequal,
  'fractions with another numerator': scaledFractionsUnequal,
  'different radicals': radicalsUnequal,
  'a power and its successor': powersUnequal,
  'reordered tuples': tuplesReordered,
  'different choice letters': choicesUnequal,
  'numbers with units': unitsUnequal,
  'different words': textUnequal,
  'intervals with other ends': intervalsUnequal,
  'sets with other elements': setsUnequal,
  'different expressions': algebraUnequal,
};

describe('answersEqual: symbolic equivalence', () => {
  for (const [name, pairs] of Object.entries(equalGroups)) {
    it(`equates ${name} (${pairs.length} pairs, both directions)`, () => {
      for (const [a, b] of pairs) {
        expect([a, b, answersEqual(a, b)]).toEqual([a, b, true]);
        expect([b, a, answersEqual(b, a)]).toEqual([b, a, true]);
      }
    });
  }
  for (const [name, pairs] of Object.entries(unequalGroups)) {
    it(`keeps ${name} apart (${pairs.length} pairs, both directions)`, () => {
      for (const [a, b] of pairs) {
        expect([a, b, answersEqual(a, b)]).toEqual([a, b, false]);
        expect([b, a, answersEqual(b, a)]).toEqual([b, a, false]);
      }
    });
  }

  it('tests a few hundred pairs', () => {
    const n = [...Object.values(equalGroups), ...Object.values(unequalGroups)].reduce((s, p) => s + p.length, 0);
    expect(n).toBeGreaterThanOrEqual(200);
  });
});

describe('answersEqual: bounded work', () => {
  it('refuses explosive expressions quickly and falls back to the string rules', () => {
    const t = performance.now();
    expect(answersEqual('100000!', '99999!')).toBe(false);
    expect(answersEqual('9^{9^{9^{9}}}', '2')).toBe(false);
    expect(answersEqual('100000!', '100000!')).toBe(true);
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it('leaves answers longer than the length limit to the string rules', () => {
    const long = `${'1+'.repeat(150)}1`;
    expect(answersEqual(long, '151')).toBe(false);
    expect(answersEqual(long, long)).toBe(true);
  });

  it('gives up (undefined) when a comparison runs past its time budget', () => {
    expect(symbolicEqual('0.375', '\\frac38')).toBe(true);
    expect(symbolicEqual('0.625', '\\frac58', { ...DEFAULT_SYMBOLIC_LIMITS, timeLimitMs: -1 })).toBeUndefined();
  });

  it('gives up on what it cannot parse', () => {
    expect(symbolicEqual('\\frac{', '1')).toBeUndefined();
  });
});

describe('mathAnswerKey', () => {
  it('gives string-equal answers one key', () => {
    expect(mathAnswerKey('\\dfrac12')).toBe(mathAnswerKey('0.5'));
    expect(mathAnswerKey('1,000')).toBe(mathAnswerKey('1000.0'));
  });

  it('never gives one key to answers that are not equal', () => {
    const answers = ['1', '2', '\\frac12', '0.25', '(1,2)', '(2,1)', '\\frac', 'x', '\\text{(B)}', 'C'];
    for (const a of answers)
      for (const b of answers) if (mathAnswerKey(a) === mathAnswerKey(b)) expect(answersEqual(a, b)).toBe(true);
  });
});
