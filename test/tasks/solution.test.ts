import { describe, expect, it } from 'vitest';
import { checkSolution } from '../../lib/tasks/arithmetic/checker.js';
import { LEVELS } from '../../lib/tasks/arithmetic/levels.js';
import { generateProblems } from '../../lib/tasks/arithmetic/problem.js';
import { formatAnswer, formatStep, referenceSolution } from '../../lib/tasks/arithmetic/solution.js';

describe('reference solution', () => {
  it('writes one equation per operation and the boxed answer, separated by blank lines', () => {
    const text = referenceSolution({
      start: 37,
      operations: [{ op: 'add', operand: 48 }, { op: 'mul', operand: 3 }, { op: 'sub', operand: 19 }],
    });
    expect(text).toBe('37 + 48 = 85\n\n85 * 3 = 255\n\n255 - 19 = 236\n\nThe answer is \\boxed{236}.');
  });

  it('writes a division with a slash and its exact quotient', () => {
    expect(referenceSolution({ start: 96, operations: [{ op: 'div', operand: 4 }] })).toBe(
      '96 / 4 = 24\n\nThe answer is \\boxed{24}.',
    );
  });

  it('formats a lone step and a lone answer the same way', () => {
    expect(formatStep(7, { op: 'sub', operand: 2 }, 5)).toBe('7 - 2 = 5');
    expect(formatAnswer(5)).toBe('The answer is \\boxed{5}.');
  });

  it.each(LEVELS)('solves every generated level-%i problem, step by step, by the checker', (level) => {
    const problems = generateProblems({ seed: 77, n: 300, level });
    const failures = problems.filter((p) => {
      const result = checkSolution(p.structured, referenceSolution(p.structured));
      return !result.solved || result.steps.length !== p.structured.operations.length + 1;
    });
    expect(failures.map((p) => p.text)).toEqual([]);
  });
});
