/**
 * The problem grammar and the seeded generator. A problem is a start quantity followed by a chain of
 * operations; every running value stays a positive integer no larger than the level's maxValue, and
 * divisions are exact. The structured form is the truth the checker judges against; the text is one
 * rendering of it, chosen by a `Phrasing` (template ids), so tests can pin the exact words.
 */

import { levelParams, type Level, type LevelParams } from './levels.js';
import { deriveSeed, Rng, type Seed } from './rng.js';
import {
  ACTORS, CHAIN_JOINER, CONNECTOR_TEMPLATES, INTRO_TEMPLATES, MAX_OPS_PER_SENTENCE, OBJECTS, OP_TEMPLATES,
  QUESTION_TEMPLATES, type Actor, type ObjectNoun, type OpKind,
} from './templates.js';

export interface Operation {
  op: OpKind;
  /** Positive integer; for div it divides the running value exactly. */
  operand: number;
}

/** The language-free content of a problem: what the JSONL's `structured` field holds. */
export interface StructuredProblem {
  start: number;
  operations: Operation[];
  answer: number;
  actor: string;
  /** Plural object noun, e.g. "apples". */
  object: string;
}

/** Which words render a structured problem. All numbers are indices into templates.ts arrays. */
export interface Phrasing {
  pronoun: 'she' | 'he';
  intro: number;
  /** [operations.length] index into OP_TEMPLATES per operation. */
  templates: number[];
  /** Operations per sentence, in order; sums to operations.length. */
  sentences: number[];
  /** [sentences.length - 1] index into CONNECTOR_TEMPLATES for every sentence after the first. */
  connectors: number[];
  question: number;
}

export interface ArithmeticProblem {
  level: Level;
  structured: StructuredProblem;
  phrasing: Phrasing;
  text: string;
}

/** Applies one operation; the caller guarantees a division is exact. */
export function applyOperation(value: number, operation: Operation): number {
  switch (operation.op) {
    case 'add': return value + operation.operand;
    case 'sub': return value - operation.operand;
    case 'mul': return value * operation.operand;
    case 'div': return value / operation.operand;
  }
}

/** [operations.length + 1] running values: the start, then the value after each operation. */
export function runningValues(start: number, operations: readonly Operation[]): number[] {
  const values = [start];
  for (const operation of operations) values.push(applyOperation(values[values.length - 1], operation));
  return values;
}

/** Throws a TypeError unless the structured problem obeys the grammar (used on data read from disk). */
export function validateStructured(problem: StructuredProblem): void {
  if (!Number.isSafeInteger(problem.start) || problem.start < 0) {
    throw new TypeError(`Expected \`start\` to be a non-negative integer, got ${problem.start}`);
  }
  if (!Array.isArray(problem.operations)) throw new TypeError('Expected `operations` to be an array');
  let value = problem.start;
  problem.operations.forEach((operation, i) => {
    const { op, operand } = operation ?? {};
    if (op !== 'add' && op !== 'sub' && op !== 'mul' && op !== 'div') {
      throw new TypeError(`Expected operations[${i}].op to be add, sub, mul or div, got ${String(op)}`);
    }
    if (!Number.isSafeInteger(operand) || operand < 0) {
      throw new TypeError(`Expected operations[${i}].operand to be a non-negative integer, got ${operand}`);
    }
    if (op === 'div' && (operand === 0 || value % operand !== 0)) {
      throw new TypeError(`operations[${i}] divides ${value} by ${operand}, which is not exact`);
    }
    value = applyOperation(value, operation);
    if (value < 0 || !Number.isSafeInteger(value)) {
      throw new TypeError(`operations[${i}] makes the running value ${value}; it must stay a non-negative integer`);
    }
  });
  if (problem.answer !== value) {
    throw new TypeError(`Expected \`answer\` to be ${value} (the last running value), got ${problem.answer}`);
  }
}

/** Draws one operation for the running value, or null when the drawn kind is impossible there. */
function drawOperation(rng: Rng, value: number, params: LevelParams, kind: OpKind): Operation | null {
  switch (kind) {
    case 'add': {
      const max = Math.min(params.maxAddend, params.maxValue - value);
      return max < 1 ? null : { op: 'add', operand: rng.int(1, max) };
    }
    case 'sub': {
      // Leave at least one object: a zero would make every later multiplication trivial.
      const max = Math.min(params.maxAddend, value - 1);
      return max < 1 ? null : { op: 'sub', operand: rng.int(1, max) };
    }
    case 'mul': {
      const factors: number[] = [];
      for (let f = 2; f <= params.maxFactor && value * f <= params.maxValue; f++) factors.push(f);
      return factors.length === 0 ? null : { op: 'mul', operand: rng.pick(factors) };
    }
    case 'div': {
      const divisors: number[] = [];
      for (let d = 2; d <= params.maxDivisor && d <= value; d++) if (value % d === 0) divisors.push(d);
      return divisors.length === 0 ? null : { op: 'div', operand: rng.pick(divisors) };
    }
  }
}

const KIND_ORDER: readonly OpKind[] = ['add', 'sub', 'mul', 'div'];

function drawStructured(rng: Rng, params: LevelParams, actor: Actor, object: ObjectNoun): StructuredProblem {
  const weights = KIND_ORDER.map((k) => params.weights[k]);
  const start = rng.int(params.minStart, params.maxStart);
  const count = rng.int(params.minOps, params.maxOps);
  const operations: Operation[] = [];
  let value = start;
  while (operations.length < count) {
    // Redraw the kind when it is impossible here (a division of a prime, an addition at maxValue);
    // add or sub is always possible because 1 <= value <= maxValue, so this loop ends.
    let operation: Operation | null = null;
    while (operation === null) operation = drawOperation(rng, value, params, KIND_ORDER[rng.weighted(weights)]);
    operations.push(operation);
    value = applyOperation(value, operation);
  }
  return { start, operations, answer: value, actor: actor.name, object: object.plural };
}

/** Template ids that can say `operation` about `object`. */
export function templatesFor(operation: Operation, object: ObjectNoun): number[] {
  const ids: number[] = [];
  OP_TEMPLATES.forEach((t, id) => {
    if (t.op !== operation.op) return;
    if (t.operand !== undefined && t.operand !== operation.operand) return;
    if (t.edibleOnly && !object.edible) return;
    ids.push(id);
  });
  return ids;
}

function drawPhrasing(rng: Rng, structured: StructuredProblem, actor: Actor, object: ObjectNoun): Phrasing {
  const intro = rng.int(0, INTRO_TEMPLATES.length - 1);
  const templates = structured.operations.map((operation) => rng.pick(templatesFor(operation, object)));
  const sentences: number[] = [];
  for (let left = structured.operations.length; left > 0;) {
    const size = rng.int(1, Math.min(MAX_OPS_PER_SENTENCE, left));
    sentences.push(size);
    left -= size;
  }
  const connectors = sentences.slice(1).map(() => rng.int(0, CONNECTOR_TEMPLATES.length - 1));
  const question = rng.int(0, QUESTION_TEMPLATES.length - 1);
  return { pronoun: actor.pronoun, intro, templates, sentences, connectors, question };
}

/** The words a template can ask for; one object per render, `n` rewritten per phrase. */
interface Words {
  name: string;
  objects: string;
  pron: string;
  Pron: string;
  n: string;
}

const PLACEHOLDER = /\{(name|objects|pron|Pron|n)\}/g;

function fill(template: string, words: Words): string {
  return template.replace(PLACEHOLDER, (_, key: keyof Words) => words[key]);
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** Renders the text of a problem; throws a TypeError when the phrasing does not fit the structure. */
export function renderProblem(structured: StructuredProblem, phrasing: Phrasing): string {
  const ops = structured.operations;
  if (phrasing.templates.length !== ops.length) {
    throw new TypeError(`Expected one template per operation (${ops.length}), got ${phrasing.templates.length}`);
  }
  if (phrasing.sentences.reduce((a, b) => a + b, 0) !== ops.length || phrasing.sentences.some((s) => s < 1)) {
    throw new TypeError(`Expected \`sentences\` to split ${ops.length} operations, got [${phrasing.sentences}]`);
  }
  if (phrasing.connectors.length !== Math.max(0, phrasing.sentences.length - 1)) {
    throw new TypeError('Expected one connector per sentence after the first');
  }
  const words: Words = { name: structured.actor, objects: structured.object, pron: phrasing.pronoun, Pron: capitalise(phrasing.pronoun), n: '' };
  const phrases = ops.map((operation, i) => {
    const template = OP_TEMPLATES[phrasing.templates[i]];
    if (!template || template.op !== operation.op || (template.operand !== undefined && template.operand !== operation.operand)) {
      throw new TypeError(`Template ${phrasing.templates[i]} cannot say operation ${i} (${operation.op} ${operation.operand})`);
    }
    words.n = String(operation.operand);
    return fill(template.text, words);
  });
  words.n = String(structured.start);
  const parts = [fill(pickTemplate(INTRO_TEMPLATES, phrasing.intro, 'intro'), words)];
  let next = 0;
  phrasing.sentences.forEach((size, s) => {
    const opener = s === 0 ? words.Pron : fill(pickTemplate(CONNECTOR_TEMPLATES, phrasing.connectors[s - 1], 'connector'), words);
    parts.push(`${opener} ${phrases.slice(next, next + size).join(CHAIN_JOINER)}.`);
    next += size;
  });
  parts.push(fill(pickTemplate(QUESTION_TEMPLATES, phrasing.question, 'question'), words));
  return parts.join(' ');
}

function pickTemplate(list: readonly string[], id: number, what: string): string {
  const template = list[id];
  if (template === undefined) throw new TypeError(`No ${what} template with id ${id}`);
  return template;
}

/** A problem before its text is rendered: rendering is the costly part, and split filters skip it. */
export type ProblemDraft = Omit<ArithmeticProblem, 'text'>;

/** Draws one problem of `level` from `rng`: structure first, then its phrasing. */
export function drawDraft(rng: Rng, level: Level): ProblemDraft {
  const params = levelParams(level);
  const actor = rng.pick(ACTORS);
  const object = rng.pick(OBJECTS);
  const structured = drawStructured(rng, params, actor, object);
  const phrasing = drawPhrasing(rng, structured, actor, object);
  return { level, structured, phrasing };
}

export function renderDraft(draft: ProblemDraft): ArithmeticProblem {
  return { ...draft, text: renderProblem(draft.structured, draft.phrasing) };
}

/** An endless deterministic stream of unrendered problems of one level. */
export function* draftStream(seed: Seed, level: Level): Generator<ProblemDraft, never, void> {
  levelParams(level);
  const rng = new Rng(deriveSeed(seed, level));
  for (;;) yield drawDraft(rng, level);
}

/** An endless deterministic stream of problems of one level. */
export function* problemStream(seed: Seed, level: Level): Generator<ArithmeticProblem, never, void> {
  const drafts = draftStream(seed, level);
  for (;;) yield renderDraft(drafts.next().value);
}

export interface GenerateOptions {
  /** PRNG seed; the same seed, level and n always give the same problems. */
  seed: Seed;
  /** How many problems. */
  n: number;
  level: Level;
}

/**
 * The first `n` problems of the level's stream, duplicates included. Use generateSplit for data sets:
 * it keeps splits apart and drops repeats.
 */
export function generateProblems({ seed, n, level }: GenerateOptions): ArithmeticProblem[] {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`Expected \`n\` to be a non-negative integer, got ${n}`);
  const stream = problemStream(seed, level);
  const problems: ArithmeticProblem[] = [];
  while (problems.length < n) problems.push(stream.next().value);
  return problems;
}
