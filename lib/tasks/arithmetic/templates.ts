/**
 * The words of the task: actors, objects and the sentence templates of each operation. Only data
 * lives here; problem.ts chooses among it and assembles the sentences. Templates use `{n}` for the
 * operand, `{name}` for the actor, `{pron}` / `{Pron}` for the actor's pronoun and `{objects}` for
 * the plural object noun. docs/tasks/arithmetic.md lists the same templates.
 */

export type OpKind = 'add' | 'sub' | 'mul' | 'div';
export const OP_KINDS: readonly OpKind[] = ['add', 'sub', 'mul', 'div'];

export interface Actor {
  name: string;
  pronoun: 'she' | 'he';
}

export const ACTORS: readonly Actor[] = [
  { name: 'Ana', pronoun: 'she' }, { name: 'Maria', pronoun: 'she' }, { name: 'Lena', pronoun: 'she' },
  { name: 'Sofia', pronoun: 'she' }, { name: 'Priya', pronoun: 'she' }, { name: 'Mei', pronoun: 'she' },
  { name: 'Chloe', pronoun: 'she' }, { name: 'Amara', pronoun: 'she' }, { name: 'Zoe', pronoun: 'she' },
  { name: 'Ines', pronoun: 'she' }, { name: 'Hana', pronoun: 'she' }, { name: 'Nadia', pronoun: 'she' },
  { name: 'Ben', pronoun: 'he' }, { name: 'Omar', pronoun: 'he' }, { name: 'Leo', pronoun: 'he' },
  { name: 'Ravi', pronoun: 'he' }, { name: 'Tom', pronoun: 'he' }, { name: 'Kenji', pronoun: 'he' },
  { name: 'Diego', pronoun: 'he' }, { name: 'Sam', pronoun: 'he' }, { name: 'Felix', pronoun: 'he' },
  { name: 'Yusuf', pronoun: 'he' }, { name: 'Ivan', pronoun: 'he' }, { name: 'Noah', pronoun: 'he' },
];

export interface ObjectNoun {
  /** Plural form, the only one the templates need. */
  plural: string;
  /** Whether "eats {n}" makes sense. */
  edible: boolean;
}

export const OBJECTS: readonly ObjectNoun[] = [
  { plural: 'apples', edible: true }, { plural: 'oranges', edible: true },
  { plural: 'cookies', edible: true }, { plural: 'candies', edible: true },
  { plural: 'grapes', edible: true }, { plural: 'cherries', edible: true },
  { plural: 'muffins', edible: true }, { plural: 'strawberries', edible: true },
  { plural: 'marbles', edible: false }, { plural: 'stickers', edible: false },
  { plural: 'coins', edible: false }, { plural: 'pencils', edible: false },
  { plural: 'stamps', edible: false }, { plural: 'shells', edible: false },
  { plural: 'cards', edible: false }, { plural: 'beads', edible: false },
];

export interface OpTemplate {
  op: OpKind;
  /** Verb phrase in the third person singular, e.g. "buys {n} more". */
  text: string;
  /** Set when the words fix the operand ("doubles them" is always 2). */
  operand?: number;
  /** Only for objects one can eat. */
  edibleOnly?: boolean;
}

/**
 * Template ids are indices into this array and are stored in a problem's phrasing. Any edit here
 * changes the text generated for existing seeds: record it under "Data version" in the docs.
 */
export const OP_TEMPLATES: readonly OpTemplate[] = [
  { op: 'add', text: 'buys {n} more' },
  { op: 'add', text: 'finds {n} more' },
  { op: 'add', text: 'gets {n} more from a friend' },
  { op: 'add', text: 'picks up {n} more' },
  { op: 'add', text: 'receives {n} more' },
  { op: 'sub', text: 'gives away {n}' },
  { op: 'sub', text: 'loses {n}' },
  { op: 'sub', text: 'sells {n}' },
  { op: 'sub', text: 'gives {n} to a friend' },
  { op: 'sub', text: 'eats {n}', edibleOnly: true },
  { op: 'mul', text: 'doubles them', operand: 2 },
  { op: 'mul', text: 'triples them', operand: 3 },
  { op: 'mul', text: 'quadruples them', operand: 4 },
  { op: 'mul', text: 'gets {n} times as many' },
  { op: 'mul', text: 'ends up with {n} times as many as before' },
  { op: 'div', text: 'splits them equally into {n} bags and keeps one bag' },
  { op: 'div', text: 'divides them into {n} equal piles and keeps one pile' },
  { op: 'div', text: 'shares them equally among {n} boxes and keeps one box' },
  { op: 'div', text: 'gives away half of them', operand: 2 },
  { op: 'div', text: 'keeps a third of them', operand: 3 },
];

/** Opening sentence: the start quantity. */
export const INTRO_TEMPLATES: readonly string[] = [
  '{name} has {n} {objects}.',
  '{name} starts with {n} {objects}.',
  'At first, {name} has {n} {objects}.',
];

/** Opens every sentence of operations after the first one. */
export const CONNECTOR_TEMPLATES: readonly string[] = [
  'Then {pron}',
  'After that, {pron}',
  'Next, {pron}',
  'Later, {pron}',
];

/** Joins the operations inside one sentence. */
export const CHAIN_JOINER = ', then ';

export const QUESTION_TEMPLATES: readonly string[] = [
  'How many {objects} does {name} have now?',
  'How many {objects} does {pron} have in the end?',
  'How many {objects} does {name} have?',
];

/** Operations per sentence, so long chains read as several sentences. */
export const MAX_OPS_PER_SENTENCE = 3;
