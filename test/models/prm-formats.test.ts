// PRM formats without native code: detection from the checkpoint's files, binding (token ids, heads,
// template pieces), the errors for checkpoints and options that do not fit, and the text layouts
// against the fixtures' independent Python recipes.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../lib/errors.js';
import { CheckpointError, ModelConfigError, TokenizerError } from '../../lib/models/errors.js';
import { prepareModel } from '../../lib/models/prepare.js';
import { PrmFormatError } from '../../lib/models/prm/errors.js';
import { checkStepTexts, rewardOf, type BoundFormat, type PrmFormatName } from '../../lib/models/prm/format.js';
import { preparePrm, type LoadPrmOptions, type PreparedPrm } from '../../lib/models/prm/prepare-prm.js';
import { byteLevelTokenizerJson, tempDir, tinyConfig, tinyTensors, writeModelDir } from '../helpers/hf-files.js';
import { PRM_FIXTURES, fixtureDir, layoutText, readReference, type PrmFixture } from './prm-fixtures.js';

const runtime = { precision: 'f32' as const, threads: 1, kvCacheBytes: 1 << 20 };
const prepare = (name: PrmFixture, options: Omit<LoadPrmOptions, 'precision'> = {}) => preparePrm(fixtureDir(name), { ...runtime, ...options });
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);

let root: string;
let cleanup: () => Promise<void>;
let n = 0;
beforeAll(async () => ({ dir: root, cleanup } = await tempDir('thinktree-prm-')));
afterAll(() => cleanup());

describe('PRM format detection', () => {
  it('detects Qwen2.5-Math-PRM from Qwen2ForProcessRewardModel and maps its two-class score head', async () => {
    const { format, prepared } = await prepare('qwen2-prm');
    expect(format.name).toBe('qwen2.5-math-prm');
    expect(format.head).toEqual({ kind: 'mlp2', prefix: 'score', outputs: 2 });
    expect(format.reward).toEqual({ kind: 'softmax', pick: 1 });
    expect(format.readToken).toBe(prepared.tokenizer.tokenId('<extra_0>'));
    expect(prepared.spec.head).toEqual(format.head);
    const names = prepared.spec.tensors.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['score.0.weight', 'score.0.bias', 'score.2.weight', 'score.2.bias']));
    expect(names).not.toContain('lm_head.weight');
  });

  it('detects a value head from a [1, hidden] tensor outside the decoder', async () => {
    const { format, prepared } = await prepare('value-head');
    expect(format.name).toBe('value-head');
    expect(format.head).toEqual({ kind: 'linear', prefix: 'v_head.summary', outputs: 1, bias: true });
    expect(format.reward).toEqual({ kind: 'sigmoid' });
    const names = prepared.spec.tensors.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['v_head.summary.weight', 'v_head.summary.bias']));
    // The checkpoint has an lm_head, but the value head never reads it.
    expect(names).not.toContain('lm_head.weight');
  });

  it('refuses to guess the format of a plain causal LM and lists the formats and how to pass one', async () => {
    const err = await failure(prepare('math-shepherd'));
    expect(err).toBeInstanceOf(PrmFormatError);
    expect(err?.message).toContain('cannot tell which PRM format');
    expect(err?.message).toContain('Pass `format` to loadPrm');
    for (const name of ['qwen2.5-math-prm', 'math-shepherd', 'rlhflow', 'value-head']) expect(err?.message).toContain(`'${name}'`);
  });

  it('binds Math-Shepherd to the lm_head rows of the good and bad tokens and to the spaced step tag', async () => {
    const { format, prepared } = await prepare('math-shepherd', { format: 'math-shepherd' });
    const ref = readReference('math-shepherd');
    expect(format.head).toEqual({ kind: 'lm-rows', tokenIds: Int32Array.from(ref.head.tokenIds!) });
    expect(format.reward).toEqual({ kind: 'softmax', pick: 0 });
    const tag = prepared.tokenizer.encode(' ки', { addSpecialTokens: false });
    expect(Array.from(tag)).toHaveLength(1);
    expect(format.readToken).toBe(tag[0]);
    expect(prepared.spec.tensors.map((t) => t.name)).toContain('lm_head.weight');
  });

  it('takes good and bad tokens given as ids', async () => {
    const { format } = await prepare('math-shepherd', { format: 'rlhflow', goodToken: 7, badToken: 9 });
    expect(format.head).toEqual({ kind: 'lm-rows', tokenIds: Int32Array.of(7, 9) });
  });

  it('rejects a step tag that is not one token, naming the tag and tokenizer.json', async () => {
    const err = await failure(prepare('math-shepherd', { format: 'math-shepherd', stepTag: 'жщ' }));
    expect(err).toBeInstanceOf(TokenizerError);
    expect(err?.message).toContain(path.join(fixtureDir('math-shepherd'), 'tokenizer.json'));
    expect(err?.message).toContain('stepTag " жщ"');
  });

  it('rejects the Qwen PRM format on a checkpoint without a score head', async () => {
    const err = await failure(prepare('math-shepherd', { format: 'qwen2.5-math-prm' }));
    expect(err).toBeInstanceOf(PrmFormatError);
    expect(err?.message).toContain('needs a Qwen2ForProcessRewardModel checkpoint');
  });

  it('rejects token-pair formats on a checkpoint without a language-model head', async () => {
    const err = await failure(prepare('qwen2-prm', { format: 'math-shepherd' }));
    expect(err).toBeInstanceOf(PrmFormatError);
    expect(err?.message).toContain('has no language-model head');
  });

  it('names the candidate tensors when `valueHead` names none of them', async () => {
    const err = await failure(prepare('value-head', { valueHead: 'score' }));
    expect(err).toBeInstanceOf(PrmFormatError);
    expect(err?.message).toContain('no value head named "score"');
    expect(err?.message).toContain('candidates: v_head.summary');
  });

  it('rejects an unknown format name before reading any file', async () => {
    const err = await failure(prepare('qwen2-prm', { format: 'orm' as PrmFormatName }));
    expect(err).toBeInstanceOf(OptionError);
    expect(err?.message).toContain("Expected `format` to be one of 'qwen2.5-math-prm'");
  });

  it('refuses to load a PRM checkpoint as a policy model', async () => {
    const err = await failure(prepareModel(fixtureDir('qwen2-prm'), { ...runtime, pageTokens: 16 }));
    expect(err).toBeInstanceOf(ModelConfigError);
    expect(err?.message).toContain('is a process reward model with no language-model head; load it with loadPrm()');
  });

  it('loads a value head on a backbone that has no lm_head', async () => {
    const dir = path.join(root, `m${n++}`);
    const config = tinyConfig('LlamaForCausalLM');
    const tensors = tinyTensors(config);
    tensors.delete('lm_head.weight');
    tensors.set('value_head.weight', { dtype: 'F32', shape: [1, 8], data: Float32Array.from({ length: 8 }, (_, i) => i / 8) });
    await writeModelDir(dir, { config, tensors });
    const { format, prepared } = await preparePrm(dir, runtime);
    expect(format.head).toEqual({ kind: 'linear', prefix: 'value_head', outputs: 1, bias: false });
    expect(prepared.spec.tensors.map((t) => t.name)).not.toContain('lm_head.weight');
  });

  it('reports a missing reward-head tensor with the shape the head needs', async () => {
    const dir = path.join(root, `m${n++}`);
    const config = tinyConfig('Qwen2ForCausalLM', { architectures: ['Qwen2ForProcessRewardModel'] });
    const tensors = tinyTensors(tinyConfig('Qwen2ForCausalLM'));
    tensors.delete('lm_head.weight');
    const h = 8;
    tensors.set('score.0.weight', { dtype: 'F32', shape: [h, h], data: new Float32Array(h * h) });
    tensors.set('score.0.bias', { dtype: 'F32', shape: [h], data: new Float32Array(h) });
    tensors.set('score.2.weight', { dtype: 'F32', shape: [2, h], data: new Float32Array(2 * h) });
    const tokenizer = byteLevelTokenizerJson();
    const added = tokenizer.added_tokens as Array<Record<string, unknown>>;
    added.push({ ...added[0], id: (added[added.length - 1].id as number) + 1, content: '<extra_0>' });
    await writeModelDir(dir, { config, tensors, tokenizer });
    const err = await failure(preparePrm(dir, runtime));
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err?.message).toContain('missing tensor "score.2.bias" (expected shape [2] for the mlp2 reward head)');
  });
});

describe('PRM layouts against the reference recipes', () => {
  const bound = new Map<string, PreparedPrm>();
  const key = (fixture: PrmFixture, format: string) => `${fixture}/${format}`;
  beforeAll(async () => {
    for (const fixture of PRM_FIXTURES) {
      for (const format of new Set(readReference(fixture).cases.map((c) => c.format))) {
        bound.set(key(fixture, format), await prepare(fixture, { format }));
      }
    }
  });

  const cases = PRM_FIXTURES.flatMap((fixture) => readReference(fixture).cases.map((c, i) => ({ fixture, i, c })));
  it.each(cases)('$fixture: $c.format case $i reads the reference positions of the reference tokens', ({ fixture, c }) => {
    const { format, prepared } = bound.get(key(fixture, c.format))!;
    const { text, ends } = layoutText(format.layout, c.question, c.steps);
    // The reference text may go on after the last read position (a closing <|im_end|>, a last separator).
    expect(c.text.startsWith(text)).toBe(true);
    const encode = (t: string) => Array.from(prepared.tokenizer.encode(t, { addSpecialTokens: format.layout.addSpecialTokens }));
    const last = c.positions[c.positions.length - 1];
    expect(encode(text)).toEqual(c.tokens.slice(0, last + 1));
    expect(ends.map((t) => encode(t).length - 1)).toEqual(c.positions);
  });

  it('puts the model card system turn and ChatML around the Qwen PRM question', () => {
    const { format } = bound.get(key('qwen2-prm', 'qwen2.5-math-prm'))!;
    expect(format.layout.prefix('Q?')).toBe(
      '<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n' +
        '<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(format.layout.step('Step 1: x.\n\n', 0)).toEqual({ text: 'Step 1: x.<extra_0>', tail: '' });
  });

  it("moves a Math-Shepherd step's trailing separator after the tag, and joins with a newline when there is none", () => {
    const { format } = bound.get(key('math-shepherd', 'math-shepherd'))!;
    expect(format.layout.step('Step 1: x.\n\n', 0)).toEqual({ text: 'Step 1: x. ки', tail: '\n\n' });
    expect(format.layout.step('Step 2: y.', 1)).toEqual({ text: 'Step 2: y. ки', tail: '\n' });
  });

  it("holds back RLHFlow's assistant answer and next user header until the next step", () => {
    const { format } = bound.get(key('math-shepherd', 'rlhflow'))!;
    expect(format.layout.step('Step 1: x.\n\n', 0)).toEqual({
      text: 'Step 1: x.<|im_end|>\n<|im_start|>assistant\n',
      tail: '+<|im_end|>\n<|im_start|>user\n',
    });
  });
});

describe('PRM step validation', () => {
  let qwen: BoundFormat;
  let shepherd: BoundFormat;
  beforeAll(async () => {
    qwen = (await prepare('qwen2-prm')).format;
    shepherd = (await prepare('math-shepherd', { format: 'math-shepherd' })).format;
  });

  it('rejects a step that contains the Qwen PRM separator, naming the step index', () => {
    expect(() => checkStepTexts(qwen, ['ok', 'bad <extra_0> step'], 'score')).toThrow(
      new OptionError('step 1 contains "<extra_0>", which the qwen2.5-math-prm format uses to mark steps'),
    );
  });

  it('rejects a step that contains the Math-Shepherd step tag, naming the step index', () => {
    expect(() => checkStepTexts(shepherd, ['x ки y'], 'score')).toThrow('step 0 contains "ки"');
  });

  it('rejects a step that is not a string', () => {
    expect(() => checkStepTexts(qwen, ['a', 3], 'score')).toThrow('step 1 must be a string, got number');
  });
});

describe('reward rules', () => {
  const row = Float32Array.of(0.5, -1.25, 2);
  const softmax = (xs: number[], k: number) => Math.exp(xs[k]) / xs.reduce((s, x) => s + Math.exp(x), 0);

  it('softmax takes the probability of the picked entry', () => {
    expect(rewardOf({ kind: 'softmax', pick: 1 }, row, 0, 3)).toBeCloseTo(softmax([0.5, -1.25, 2], 1), 12);
    expect(rewardOf({ kind: 'softmax', pick: 0 }, row, 1, 2)).toBeCloseTo(softmax([-1.25, 2], 0), 12);
  });

  it('softmax stays finite for logits far beyond exp range', () => {
    const wide = Float32Array.of(1000, -1000);
    expect(rewardOf({ kind: 'softmax', pick: 0 }, wide, 0, 2)).toBe(1);
    expect(rewardOf({ kind: 'softmax', pick: 1 }, wide, 0, 2)).toBe(0);
  });

  it('sigmoid maps the single value', () => {
    expect(rewardOf({ kind: 'sigmoid' }, row, 2, 1)).toBeCloseTo(1 / (1 + Math.exp(-2)), 12);
  });
});
