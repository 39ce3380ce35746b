import { describe, expect, it } from 'vitest';
import { LEVELS, levelParams, type Level } from '../../lib/tasks/arithmetic/levels.js';
import {
  generateProblems, renderProblem, templatesFor, validateStructured, type ArithmeticProblem, type Operation,
  type Phrasing, type StructuredProblem,
} from '../../lib/tasks/arithmetic/problem.js';
import { OBJECTS, OP_TEMPLATES } from '../../lib/tasks/arithmetic/templates.js';

const ANA: StructuredProblem = {
  start: 37,
  operations: [{ op: 'add', operand: 48 }, { op: 'mul', operand: 3 }, { op: 'sub', operand: 19 }],
  answer: 236,
  actor: 'Ana',
  object: 'apples',
};

function templateId(text: string): number {
  const id = OP_TEMPLATES.findIndex((t) => t.text === text);
  if (id < 0) throw new Error(`no template ${text}`);
  return id;
}

/**
 * An inverse of the renderer written independently of it: the meaning of every phrase, by hand.
 * Returns the start and operations a reader of the text would write down.
 */
const PHRASES: Array<[RegExp, Operation['op'], number?]> = [
  [/^buys (\d+) more$/, 'add'], [/^finds (\d+) more$/, 'add'], [/^gets (\d+) more from a friend$/, 'add'],
  [/^picks up (\d+) more$/, 'add'], [/^receives (\d+) more$/, 'add'],
  [/^gives away (\d+)$/, 'sub'], [/^loses (\d+)$/, 'sub'], [/^sells (\d+)$/, 'sub'],
  [/^gives (\d+) to a friend$/, 'sub'], [/^eats (\d+)$/, 'sub'],
  [/^doubles them$/, 'mul', 2], [/^triples them$/, 'mul', 3], [/^quadruples them$/, 'mul', 4],
  [/^gets (\d+) times as many$/, 'mul'], [/^ends up with (\d+) times as many as before$/, 'mul'],
  [/^splits them equally into (\d+) bags and keeps one bag$/, 'div'],
  [/^divides them into (\d+) equal piles and keeps one pile$/, 'div'],
  [/^shares them equally among (\d+) boxes and keeps one box$/, 'div'],
  [/^gives away half of them$/, 'div', 2], [/^keeps a third of them$/, 'div', 3],
];

function readText(text: string): { start: number; operations: Operation[]; phrases: string[] } {
  const intro = /^(?:At first, )?[A-Z][a-z]+ (?:has|starts with) (\d+) [a-z]+\. /.exec(text);
  if (!intro) throw new Error(`unreadable intro: ${text}`);
  const body = text.slice(intro[0].length).replace(/ How many [a-z]+ does [A-Za-z]+ have(?: now| in the end)?\?$/, '');
  const phrases: string[] = [];
  for (const sentence of body.split(/\.(?: |$)/).filter((s) => s !== '')) {
    const rest = sentence.replace(/^(?:She|He|Then she|Then he|After that, s?he|Next, s?he|Later, s?he) /, '');
    phrases.push(...rest.split(', then '));
  }
  const operations = phrases.map((phrase) => {
    for (const [re, op, fixed] of PHRASES) {
      const m = re.exec(phrase);
      if (m) return { op, operand: fixed ?? Number(m[1]) };
    }
    throw new Error(`unreadable phrase: ${phrase}`);
  });
  return { start: Number(intro[1]), operations, phrases };
}

/** Running values by the plain definition, for comparison with the generator's own bookkeeping. */
function scalarRun(start: number, ops: readonly Operation[]): number[] {
  const out = [start];
  let v = start;
  for (const { op, operand } of ops) {
    if (op === 'add') v += operand;
    else if (op === 'sub') v -= operand;
    else if (op === 'mul') v *= operand;
    else v = Math.trunc(v / operand);
    out.push(v);
  }
  return out;
}

describe('renderProblem', () => {
  it('writes a one-sentence chain with the chosen templates', () => {
    const phrasing: Phrasing = {
      pronoun: 'she', intro: 0, question: 0, sentences: [3], connectors: [],
      templates: [templateId('buys {n} more'), templateId('triples them'), templateId('gives away {n}')],
    };
    expect(renderProblem(ANA, phrasing)).toBe(
      'Ana has 37 apples. She buys 48 more, then triples them, then gives away 19. How many apples does Ana have now?',
    );
  });

  it('opens later sentences with their connectors and uses the pronoun in the question', () => {
    const phrasing: Phrasing = {
      pronoun: 'she', intro: 2, question: 1, sentences: [1, 2], connectors: [1],
      templates: [templateId('finds {n} more'), templateId('gets {n} times as many'), templateId('eats {n}')],
    };
    expect(renderProblem(ANA, phrasing)).toBe(
      'At first, Ana has 37 apples. She finds 48 more. After that, she gets 3 times as many, then eats 19. ' +
        'How many apples does she have in the end?',
    );
  });

  it('rejects a template whose fixed operand disagrees with the operation', () => {
    const phrasing: Phrasing = {
      pronoun: 'she', intro: 0, question: 0, sentences: [3], connectors: [],
      templates: [templateId('buys {n} more'), templateId('doubles them'), templateId('gives away {n}')],
    };
    expect(() => renderProblem(ANA, phrasing)).toThrow(/cannot say operation 1/);
  });

  it('rejects sentence sizes that do not cover the operations', () => {
    const phrasing: Phrasing = {
      pronoun: 'she', intro: 0, question: 0, sentences: [2], connectors: [],
      templates: [templateId('buys {n} more'), templateId('triples them'), templateId('gives away {n}')],
    };
    expect(() => renderProblem(ANA, phrasing)).toThrow(TypeError);
  });
});

describe('templatesFor', () => {
  it('offers "eats" only for edible objects', () => {
    const eats = templateId('eats {n}');
    const apples = OBJECTS.find((o) => o.plural === 'apples')!;
    const marbles = OBJECTS.find((o) => o.plural === 'marbles')!;
    expect(templatesFor({ op: 'sub', operand: 4 }, apples)).toContain(eats);
    expect(templatesFor({ op: 'sub', operand: 4 }, marbles)).not.toContain(eats);
  });

  it('offers fixed-operand phrasings only for their operand', () => {
    const apples = OBJECTS[0];
    expect(templatesFor({ op: 'mul', operand: 2 }, apples)).toContain(templateId('doubles them'));
    expect(templatesFor({ op: 'mul', operand: 5 }, apples)).not.toContain(templateId('doubles them'));
  });
});

describe('generateProblems', () => {
  // Both verified by hand: 19 + 10 - 19 = 10; 188 + 180 = 368, * 8 = 2944, - 375 = 2569, * 2 = 5138, - 395 = 4743.
  it('produces the hand-checked first level-1 problem of seed 1', () => {
    const [p] = generateProblems({ seed: 1, n: 1, level: 1 });
    expect(p.text).toBe(
      'At first, Maria has 19 cards. She gets 10 more from a friend. Then she gives away 19. How many cards does Maria have?',
    );
    expect(p.structured.answer).toBe(10);
  });

  it('produces the hand-checked first level-5 problem of seed 1', () => {
    const [p] = generateProblems({ seed: 1, n: 1, level: 5 });
    expect(p.text).toBe(
      'Nadia starts with 188 cards. She gets 180 more from a friend, then ends up with 8 times as many as before, ' +
        'then sells 375. Later, she doubles them. Then she sells 395. How many cards does she have in the end?',
    );
    expect(p.structured.answer).toBe(4743);
  });

  it('gives the same problems for the same seed and different ones for another seed', () => {
    const a = generateProblems({ seed: 9, n: 20, level: 3 }).map((p) => p.text);
    const b = generateProblems({ seed: 9, n: 20, level: 3 }).map((p) => p.text);
    const c = generateProblems({ seed: 10, n: 20, level: 3 }).map((p) => p.text);
    expect(a).toEqual(b);
    expect(c.filter((t) => a.includes(t)).length).toBe(0);
  });

  it('rejects a level outside 1..5', () => {
    expect(() => generateProblems({ seed: 1, n: 1, level: 6 as Level })).toThrow(/level/);
  });

  const samples = new Map<Level, ArithmeticProblem[]>(LEVELS.map((level) => [level, generateProblems({ seed: 2024, n: 400, level })]));

  it.each(LEVELS)('keeps level %i within its operation count, start and operand ranges', (level) => {
    const p = levelParams(level);
    const bad = samples.get(level)!.filter(({ structured: s }) =>
      s.operations.length < p.minOps || s.operations.length > p.maxOps || s.start < p.minStart || s.start > p.maxStart ||
      s.operations.some((o) => ((o.op === 'add' || o.op === 'sub') ? o.operand > p.maxAddend : o.operand < 2) ||
        (o.op === 'mul' && o.operand > p.maxFactor) || (o.op === 'div' && o.operand > p.maxDivisor)));
    expect(bad).toEqual([]);
  });

  it.each(LEVELS)('keeps every running value of level %i a positive integer below the cap, with exact divisions', (level) => {
    const cap = levelParams(level).maxValue;
    const bad = samples.get(level)!.filter(({ structured: s }) => {
      const values = scalarRun(s.start, s.operations);
      const exact = s.operations.every((o, i) => o.op !== 'div' || values[i] % o.operand === 0);
      return !exact || values.some((v) => !Number.isInteger(v) || v < 1 || v > cap) || values[values.length - 1] !== s.answer;
    });
    expect(bad).toEqual([]);
  });

  it.each(LEVELS)('writes level-%i texts that say exactly the structured start and operations', (level) => {
    for (const p of samples.get(level)!) {
      const read = readText(p.text);
      expect({ start: read.start, operations: read.operations }).toEqual({ start: p.structured.start, operations: p.structured.operations });
      expect(p.text).toContain(` ${p.structured.object}`);
      expect(p.text.startsWith(p.structured.actor) || p.text.startsWith(`At first, ${p.structured.actor}`)).toBe(true);
    }
  });

  it('uses every operation template somewhere across the levels', () => {
    const used = new Set<number>();
    for (const problems of samples.values()) for (const p of problems) p.phrasing.templates.forEach((t) => used.add(t));
    expect([...used].sort((a, b) => a - b)).toEqual(OP_TEMPLATES.map((_, i) => i));
  });

  it('draws multiplication and division more often at level 5 than at level 1', () => {
    const share = (level: Level) => {
      const ops = samples.get(level)!.flatMap((p) => p.structured.operations);
      return ops.filter((o) => o.op === 'mul' || o.op === 'div').length / ops.length;
    };
    expect(share(5)).toBeGreaterThan(share(1) + 0.2);
  });

  it('varies the wording: many distinct intros and phrases in one level', () => {
    const texts = samples.get(2)!.map((p) => p.text);
    expect(new Set(texts.map((t) => t.split(' ').slice(0, 2).join(' '))).size).toBeGreaterThan(20);
    expect(new Set(samples.get(2)!.map((p) => p.phrasing.intro)).size).toBe(3);
  });
});

describe('validateStructured', () => {
  it('accepts a consistent problem', () => {
    expect(() => validateStructured(ANA)).not.toThrow();
  });

  it('rejects an answer that is not the last running value', () => {
    expect(() => validateStructured({ ...ANA, answer: 235 })).toThrow(/answer/);
  });

  it('rejects an inexact division', () => {
    expect(() => validateStructured({ ...ANA, operations: [{ op: 'div', operand: 2 }], answer: 18 })).toThrow(/not exact/);
  });

  it('rejects a subtraction below zero', () => {
    expect(() => validateStructured({ ...ANA, operations: [{ op: 'sub', operand: 40 }], answer: -3 })).toThrow(/non-negative/);
  });
});
