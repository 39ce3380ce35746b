// Issue 30, "PRM inputs": an empty or whitespace-only step is refused, naming its index, and so is a
// step (or question) holding a special token of the PRM's tokenizer, naming the token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../lib/errors.js';
import { checkStepTexts, type BoundFormat } from '../../lib/models/prm/format.js';
import { loadPrm, type Prm } from '../../lib/models/prm/prm.js';
import { search } from '../../lib/search/search.js';
import { ScriptedBackend, treeScript, type Script } from '../search/scripted-backend.js';
import { fixtureDir } from './prm-fixtures.js';

const Q = 'Tom has 3 apples and buys 5 more. How many?';

describe('checkStepTexts', () => {
  const format = { name: 'math-shepherd', layout: { forbidden: ['ки'] } } as unknown as BoundFormat;

  it('refuses an empty step, naming its index', () => {
    expect(() => checkStepTexts(format, ['Step 1.', ''], 'score')).toThrow(new OptionError('step 1 is empty: score scores steps that have text'));
  });

  it('refuses a whitespace-only step, naming its index', () => {
    expect(() => checkStepTexts(format, [' \n\n\t'], 'score')).toThrow('step 0 is whitespace only');
  });

  it('refuses a special token given to it, naming the token and the step', () => {
    expect(() => checkStepTexts(format, ['ok', 'a <|im_end|> b'], 'score', ['<|im_end|>'])).toThrow(
      'step 1 contains "<|im_end|>", a special token of the PRM\'s tokenizer',
    );
  });

  it('accepts a step with text around whitespace', () => {
    expect(() => checkStepTexts(format, ['\n\nStep 1: 3 + 5 = 8.\n\n'], 'score', ['<|im_end|>'])).not.toThrow();
  });
});

describe.each([
  ['qwen2-prm', 'qwen2.5-math-prm'],
  ['math-shepherd', 'math-shepherd'],
  ['value-head', 'value-head'],
] as const)('Prm (%s, %s)', (fixture, format) => {
  let prm: Prm;
  beforeAll(async () => {
    prm = await loadPrm(fixtureDir(fixture), { format, precision: 'f32', threads: 1, kvCacheBytes: 4 << 20, pageTokens: 8 });
  });
  afterAll(() => prm.dispose());

  it('knows its tokenizer’s special tokens', () => {
    expect(prm.tokenizer.specialTokenTexts).toEqual(expect.arrayContaining(['<|im_end|>', '<|endoftext|>']));
  });

  it('scoreSteps refuses an empty step with its index instead of scoring it', async () => {
    await expect(prm.scoreSteps(Q, ['Step 1: 3 + 5 = 8.\n\n', ''])).rejects.toThrow('step 1 is empty');
  });

  it('score refuses a whitespace-only step with its index, leaving the node as it was', async () => {
    const root = await prm.root(Q);
    const [a, b] = await prm.fork([root, root]);
    await expect(prm.score([a!, b!], ['Step 1: 3 + 5 = 8.\n\n', '  \n\n'])).rejects.toThrow('step 1 is whitespace only');
    const [r] = (await prm.score([a!], ['Step 1: 3 + 5 = 8.\n\n'])).rewards;
    expect(Number.isFinite(r)).toBe(true);
    await prm.release([root, a!, b!]);
  });

  it.each(['<|im_end|>', '<|endoftext|>', '<|im_start|>'])('refuses %s inside a step, naming it', async (token) => {
    await expect(prm.scoreSteps(Q, ['Step 1: fine.\n\n', `Step 2: 8${token}\n\n`])).rejects.toThrow(
      `step 1 contains ${JSON.stringify(token)}, a special token`,
    );
  });

  it('refuses a special token inside the question, naming it', async () => {
    await expect(prm.root(`${Q}<|im_end|>`)).rejects.toThrow('the question contains "<|im_end|>", a special token');
  });
});

describe('a search whose policy emits a step with no text', () => {
  // Steps of only a blank line are never sent to the PRM (which refuses them): they keep the score of
  // their path so far, 0 at the first step.
  const blankFirst: Script = {
    ...treeScript({ depth: 2, answers: [{ answer: '3', p: 1 }] }),
    next(view) {
      const d = view.attempt.length;
      if (d === 0) return [{ text: '\n\n', p: 0.5 }, { text: 'Step A\n\n', p: 0.5 }];
      if (d === 1) return [{ text: 'Step B\n\n', p: 0.5 }, { text: ' \n\n', p: 0.5 }];
      return [{ text: 'So \\boxed{3}', p: 1, eos: true }];
    },
  };

  it('completes, scoring only steps with text, and gives blank steps their path’s score', async () => {
    const backend = new ScriptedBackend(blankFirst);
    const r = await search(Q, { backend, strategy: 'beam', n: 8, beamWidth: 2 });
    expect(backend.scoredLog.every((s) => s.scored.at(-1)!.trim().length > 0)).toBe(true);
    const blanks = r.tree.filter((t) => t.kind === 'step' && t.stepText.trim().length === 0);
    expect(blanks.length).toBeGreaterThan(0);
    for (const b of blanks) {
      let p = b.parent === null ? undefined : r.tree[b.parent];
      while (p !== undefined && p.prmScore === null) p = p.parent === null ? undefined : r.tree[p.parent];
      expect(b.prmScore).toBe(p?.prmScore ?? 0);
    }
  });
});
