import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSolution, type CheckResult, type StepReason } from '../../lib/tasks/arithmetic/checker.js';
import type { StructuredProblem } from '../../lib/tasks/arithmetic/problem.js';

// "Ana has 37 apples. She buys 48 more, then triples them, then gives away 19." 85, 255, 236.
const ANA: StructuredProblem = {
  start: 37,
  operations: [{ op: 'add', operand: 48 }, { op: 'mul', operand: 3 }, { op: 'sub', operand: 19 }],
  answer: 236,
  actor: 'Ana',
  object: 'apples',
};

const steps = (...paragraphs: string[]) => paragraphs.join('\n\n');
const reasons = (r: CheckResult): StepReason[][] => r.steps.map((s) => s.reasons);
const BOX = (n: string | number) => `The answer is \\boxed{${n}}.`;

describe('checkSolution on hand-written solutions', () => {
  it('labels a correct solution correct throughout', () => {
    const r = checkSolution(ANA, steps('37 + 48 = 85', '85 * 3 = 255', '255 - 19 = 236', BOX(236)));
    expect(reasons(r)).toEqual([[], [], [], []]);
    expect(r.steps.map((s) => s.kind)).toEqual(['equation', 'equation', 'equation', 'answer']);
    expect(r.steps.map((s) => s.operation)).toEqual([0, 1, 2, null]);
    expect(r.answer).toEqual({ found: true, value: '236', correct: true });
    expect(r).toMatchObject({ firstError: -1, allStepsCorrect: true, solved: true });
  });

  it('flags an arithmetic slip and every later step that carries the wrong value', () => {
    const r = checkSolution(ANA, steps('37 + 48 = 86', '86 * 3 = 258', '258 - 19 = 239', BOX(239)));
    expect(reasons(r)).toEqual([['arithmetic'], ['wrong-running-value'], ['wrong-running-value'], ['wrong-answer']]);
    expect(r.firstError).toBe(0);
    expect(r.answer.correct).toBe(false);
  });

  it('accepts a step that returns to the true running value after a slip', () => {
    const r = checkSolution(ANA, steps('37 + 48 = 86', '85 * 3 = 255', '255 - 19 = 236', BOX(236)));
    expect(reasons(r)).toEqual([['arithmetic'], [], [], []]);
    expect(r.answer.correct).toBe(true);
    expect(r.solved).toBe(false);
  });

  it('flags the wrong operation and the steps built on its result', () => {
    const r = checkSolution(ANA, steps('37 + 48 = 85', '85 + 3 = 88', '88 - 19 = 69', BOX(69)));
    expect(reasons(r)).toEqual([[], ['wrong-operation'], ['wrong-running-value'], ['wrong-answer']]);
    expect(r.steps[1].operation).toBe(1);
  });

  it('flags a wrong operand', () => {
    const r = checkSolution(ANA, steps('37 + 48 = 85', '85 * 4 = 340'));
    expect(reasons(r)).toEqual([[], ['wrong-operand']]);
  });

  it('flags a skipped operation and judges the rest from after it', () => {
    const r = checkSolution(ANA, steps('37 + 48 = 85', '85 - 19 = 66', BOX(66)));
    expect(reasons(r)).toEqual([[], ['skipped-step'], ['wrong-answer']]);
    expect(r.steps[1].operation).toBe(2);
  });

  it('flags an answer given while operations are still owed', () => {
    const r = checkSolution(ANA, steps('37 + 48 = 85', BOX(85)));
    expect(reasons(r)).toEqual([[], ['premature-answer', 'wrong-answer']]);
  });

  it('flags a repeated step without losing its place', () => {
    const r = checkSolution(ANA, steps('37 + 48 = 85', '37 + 48 = 85', '85 * 3 = 255', '255 - 19 = 236', BOX(236)));
    expect(reasons(r)).toEqual([[], ['repeated-step'], [], [], []]);
  });

  it('flags an equation after the last operation', () => {
    const r = checkSolution(ANA, steps('37 + 48 = 85', '85 * 3 = 255', '255 - 19 = 236', '236 + 1 = 237', BOX(236)));
    expect(reasons(r)).toEqual([[], [], [], ['extra-step'], []]);
  });

  it('labels garbage paragraphs unparseable and keeps judging the owed operation', () => {
    const r = checkSolution(ANA, steps('Let me think.', '37 + 48 = 85', '%%%', '85 * 3 = 255', '255 - 19 = 236', BOX(236)));
    expect(reasons(r)).toEqual([['unparseable'], [], ['unparseable'], [], [], []]);
    expect(r.steps[0].kind).toBe('unparsed');
  });

  it('reports a missing boxed answer while still labelling the steps', () => {
    const r = checkSolution(ANA, steps('37 + 48 = 85', '85 * 3 = 255', '255 - 19 = 236'));
    expect(reasons(r)).toEqual([[], [], []]);
    expect(r.answer).toEqual({ found: false, value: null, correct: false });
    expect(r.allStepsCorrect).toBe(true);
    expect(r.solved).toBe(false);
  });

  it('marks a right answer reached by wrong steps: outcome correct, process not', () => {
    // 37 + 47 = 84 (wrong operand), 84 * 3 = 252 (from a wrong value), 252 - 16 = 236 (both): lands on 236.
    const r = checkSolution(ANA, steps('37 + 47 = 84', '84 * 3 = 252', '252 - 16 = 236', BOX(236)));
    expect(reasons(r)).toEqual([
      ['wrong-operand'], ['wrong-running-value'], ['wrong-operand', 'wrong-running-value'], [],
    ]);
    expect(r.answer.correct).toBe(true);
    expect(r.solved).toBe(false);
    expect(r.firstError).toBe(0);
  });

  it('reports every difference of a step that is wrong in several ways', () => {
    const r = checkSolution(ANA, steps('37 + 48 = 85', '80 - 5 = 70'));
    expect(reasons(r)[1]).toEqual(['wrong-operation', 'wrong-operand', 'wrong-running-value', 'arithmetic']);
  });

  it('flags a boxed answer that is not an integer', () => {
    const r = checkSolution(ANA, steps('37 + 48 = 85', '85 * 3 = 255', '255 - 19 = 236', 'The answer is \\boxed{236 apples}.'));
    expect(reasons(r)[3]).toEqual(['unparseable-answer']);
    expect(r.answer).toEqual({ found: true, value: '236 apples', correct: false });
  });

  it('takes the last boxed value as the final answer', () => {
    const r = checkSolution(ANA, steps('37 + 48 = 85', '85 * 3 = 255', '255 - 19 = 236', BOX(230), BOX(236)));
    expect(reasons(r).slice(3)).toEqual([['wrong-answer'], []]);
    expect(r.answer.value).toBe('236');
    expect(r.answer.correct).toBe(true);
  });

  it('treats an unclosed box as found but unreadable', () => {
    const r = checkSolution(ANA, '37 + 48 = 85\n\nThe answer is \\boxed{236');
    expect(r.answer).toEqual({ found: true, value: null, correct: false });
    expect(reasons(r)[1]).toEqual(['unparseable-answer']);
  });
});

describe('checkSolution parsing details', () => {
  const ONE = { start: 7, operations: [{ op: 'div' as const, operand: 7 }] };

  it('accepts an equation without spaces', () => {
    expect(checkSolution(ANA, '37+48=85').steps[0].correct).toBe(true);
  });

  it('rejects an equation with trailing words or punctuation', () => {
    expect(reasons(checkSolution(ANA, '37 + 48 = 85.'))).toEqual([['unparseable']]);
    expect(reasons(checkSolution(ANA, '37 + 48 = 85 apples'))).toEqual([['unparseable']]);
  });

  it('judges a division as exact integer division only', () => {
    expect(reasons(checkSolution({ start: 7, operations: [{ op: 'div', operand: 7 }] }, '7 / 2 = 3'))).toEqual([
      ['wrong-operand', 'arithmetic'],
    ]);
    expect(reasons(checkSolution(ONE, '7 / 0 = 0'))).toEqual([['wrong-operand', 'arithmetic']]);
    expect(reasons(checkSolution(ONE, '7 / 7 = 1'))).toEqual([[]]);
  });

  it('parses a negative result so that it is judged, not called garbage', () => {
    const r = checkSolution({ start: 5, operations: [{ op: 'sub', operand: 3 }] }, '5 - 9 = -4');
    expect(reasons(r)).toEqual([['wrong-operand']]);
  });

  it('judges big numbers exactly rather than in floating point', () => {
    // As doubles both sides are 9007199254740992; exactly, 9007199254740993 + 0 is not 9007199254740992.
    const r = checkSolution({ start: 1, operations: [{ op: 'add', operand: 0 }] }, '9007199254740993 + 0 = 9007199254740992');
    expect(r.steps[0].reasons).toContain('arithmetic');
  });

  it('skips empty paragraphs and reports each step\'s range in the original text', () => {
    const text = '\n\n37 + 48 = 85\n\n\n\n  85 * 3 = 255 \n\n';
    const r = checkSolution(ANA, text);
    expect(r.steps.map((s) => s.text)).toEqual(['37 + 48 = 85', '85 * 3 = 255']);
    expect(r.steps.map((s) => text.slice(s.start, s.end).trim())).toEqual(['37 + 48 = 85', '85 * 3 = 255']);
    expect(r.steps.map((s) => s.index)).toEqual([0, 1]);
  });

  it('returns no steps and no answer for an empty text', () => {
    const r = checkSolution(ANA, '');
    expect(r).toMatchObject({ steps: [], firstError: -1, allStepsCorrect: true, solved: false });
    expect(r.answer.found).toBe(false);
  });
});

describe('checkSolution on arbitrary text', () => {
  const TOKENS = ['37', '48', '85', '3', '255', '-', '+', '*', '/', ' = ', ' ', '\n\n', '\n', '\\boxed{', '}', '{', 'The answer is ', '.', 'x', '999999999999999999999999'];

  it('never throws and keeps its invariants on random strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        const r = checkSolution(ANA, text);
        return r.steps.every((s) => s.correct === (s.reasons.length === 0)) &&
          r.solved === (r.allStepsCorrect && r.steps.length > 0 && r.answer.correct);
      }),
      { numRuns: 300, seed: 1 },
    );
  });

  it('never throws on near-format text built from solution tokens', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }), (parts) => {
        const text = parts.join('');
        const r = checkSolution(ANA, text);
        return r.steps.every((s) => s.start >= 0 && s.end <= text.length && s.start <= s.end && text.slice(s.start, s.end).trim() === s.text);
      }),
      { numRuns: 500, seed: 2 },
    );
  });
});
