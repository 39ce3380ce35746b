import { describe, expect, it } from 'vitest';
import { answersEqual, extractAnswer, normalizeMathAnswer } from '../../lib/tasks/math/answers.js';

// Expected values of the MATH grader's is_equiv (Hendrycks et al.), checked against that grader; the pairs
// where our grader goes further (symbolic equivalence, units) are in beyondGraderCases.
const graderCases: [string, string, boolean][] = [
  ['\\frac12', '\\frac{1}{2}', true],
  ['\\dfrac{1}{2}', '\\frac{1}{2}', true],
  ['\\tfrac{3}{4}', '3/4', true],
  ['3/4', '\\frac{3}{4}', true],
  ['0.5', '\\frac{1}{2}', true],
  ['.5', '\\frac12', true],
  ['\\left(1,2\\right)', '(1,2)', true],
  ['10\\%', '10', true],
  ['\\$5', '5', true],
  ['90^\\circ', '90', true],
  ['90^{\\circ}', '90', true],
  ['5\\text{ cm}', '5', true],
  ['x = 5', '5', true],
  ['xy = 5', '5', false],
  ['abc = 5', '5', false],
  ['\\sqrt3', '\\sqrt{3}', true],
  ['2\\sqrt2', '2\\sqrt{2}', true],
  ['1 + 2', '1+2', true],
  ['\\!1', '1', true],
  ['{.5}', '{0.5}', true],
  ['\\frac1{72}', '\\frac{1}{72}', true],
  ['-3/4', '\\frac{-3}{4}', true],
  ['\\frac', '\\frac', true],
  ['1\\text{ a}2\\text{ b}', '1', false],
  ['\\frac{a}{b}', '\\frac{a}{b}', true],
  ['7', '8', false],
];

// Our one addition: plain decimals compare by value (exactly, on their digits).
const numericCases: [string, string, boolean][] = [
  ['236', '236.0', true],
  ['236.00', '236', true],
  ['1,000', '1000', true],
  ['0.50', '\\frac{1}{2}', true],
  ['-0', '0', true],
  ['007', '7', true],
  ['1,00', '100', false],
];

// The MATH grader says false here; symbolic equivalence and unit dropping make them equal.
const beyondGraderCases: [string, string][] = [
  ['0.25', '\\frac{1}{4}'],
  ['5\\text{cm}', '5'],
  ['03/4', '\\frac{3}{4}'],
  ['0.1', '0.10000000000000001'],
];

describe('answersEqual', () => {
  it.each(graderCases)('follows the MATH grader: %s vs %s → %s', (a, b, want) => {
    expect(answersEqual(a, b)).toBe(want);
    expect(answersEqual(b, a)).toBe(want);
  });

  it.each(numericCases)('compares plain decimals by value: %s vs %s → %s', (a, b, want) => {
    expect(answersEqual(a, b)).toBe(want);
  });

  it.each(beyondGraderCases)('goes beyond the MATH grader: %s equals %s', (a, b) => {
    expect(answersEqual(a, b)).toBe(true);
    expect(answersEqual(b, a)).toBe(true);
  });

  it('treats a missing answer as equal to nothing', () => {
    expect(answersEqual(null, null)).toBe(false);
    expect(answersEqual('1', null)).toBe(false);
  });

  it('normalises \\frac12 to \\frac{1}{2} and a/b to \\frac{a}{b}', () => {
    expect(normalizeMathAnswer('\\frac12')).toBe('\\frac{1}{2}');
    expect(normalizeMathAnswer('5/6')).toBe('\\frac{5}{6}');
    expect(normalizeMathAnswer('\\dfrac{\\sqrt3}{2}')).toBe('\\frac{\\sqrt{3}}{2}');
  });
});

describe('extractAnswer', () => {
  const cases: [string, string | null][] = [
    ['so the answer is $\\boxed{5}$.', '5'],
    ['\\boxed{1} then \\boxed{\\frac{1}{2}}', '\\frac{1}{2}'],
    ['\\boxed{\\frac{\\sqrt{3}}{2}}', '\\frac{\\sqrt{3}}{2}'],
    ['\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}', '\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}'],
    ['an unclosed \\boxed{3 and \\boxed{4}', '4'],
    ['\\fbox{7}', '7'],
    ['$\\boxed 9$', '9'],
    ['The answer is 42.', '42'],
    ['Therefore, the final answer is: $\\frac{3}{4}$. I hope it is correct.\nnext 7', '\\frac{3}{4}'],
    ['The answer is \\(2\\pi\\) units', '2\\pi'],
    ['the answer is 3.5 meters. Done', '3.5 meters'],
    ['the answer is $x=3$', 'x=3'],
    ['We get 12 apples, then 1,250 pears.', '1250'],
    ['ratio 3/4 overall', '3/4'],
    ['value -2.5 here', '-2.5'],
    ['no numbers at all', null],
  ];
  it.each(cases)('extracts from %j', (text, want) => {
    expect(extractAnswer(text)).toBe(want);
  });
});
