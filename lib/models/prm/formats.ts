/**
 * The PRM families thinktree reads, each a description (see format.ts), and the registry that picks one
 * for a checkpoint.
 *
 * Steps arrive as a policy wrote them, usually ending in the stop string ("\n\n"). Trailing whitespace
 * of a step is taken as its separator from the next step, not as content: Qwen2.5-Math-PRM and RLHFlow
 * were trained on solutions split at "\n\n", so it is dropped; Math-Shepherd keeps it after the step tag,
 * as search-and-learn's `"\n\n" → " ки\n\n"` does. Qwen2.5-Math-PRM steps are also stripped in front
 * (its training pieces are stripped paragraphs); the others keep leading whitespace as written.
 */
import type { HeadContext } from '../prepare.js';
import { renderSlots, slot, templateTrims } from './chat-layout.js';
import { PrmFormatError } from './errors.js';
import { PRM_FORMAT_NAMES, type FormatContext, type PrmFormat, type PrmFormatName, type PrmFormatOptions } from './format.js';
import { addedToken, singleToken } from './token-lookup.js';

/** The system turn of the Qwen2.5-Math-PRM model card's example. */
export const QWEN_PRM_SYSTEM = 'Please reason step by step, and put your final answer within \\boxed{}.';
const QWEN_PRM_SEPARATOR = '<extra_0>';

const trailingSpace = /\s*$/u;

/** A step split into its content and the whitespace that ends it. */
function splitStep(step: string): { body: string; space: string } {
  const at = step.search(trailingSpace);
  return { body: step.slice(0, at), space: step.slice(at) };
}

function shapeOf(ctx: HeadContext, name: string): number[] | undefined {
  return ctx.checkpoint.where.get(name)?.entry.shape;
}

function needLmHead(ctx: HeadContext, format: string): void {
  if (!ctx.config.hasLmHead) {
    throw new PrmFormatError(ctx.dir, `the ${format} format reads token logits, but ${ctx.config.architecture} has no language-model head`);
  }
}

function tokenPair(ctx: FormatContext): { good: number; bad: number; answer: string } {
  const { tokenizer, dir, options } = ctx;
  const good = singleToken(tokenizer, dir, 'goodToken', options.goodToken ?? '+');
  const bad = singleToken(tokenizer, dir, 'badToken', options.badToken ?? '-');
  if (good === bad) throw new PrmFormatError(dir, `goodToken and badToken are the same token (id ${good})`);
  const answer = typeof options.goodToken === 'string' || options.goodToken === undefined ? (options.goodToken ?? '+') : tokenizer.decode([good]);
  return { good, bad, answer };
}

const qwenMathPrm: PrmFormat = {
  name: 'qwen2.5-math-prm',
  summary: 'Qwen2.5-Math-PRM (config.json architectures ["Qwen2ForProcessRewardModel"]; `<extra_0>` after each step, two-class `score` head)',
  detect: (ctx) => ctx.config.architecture === 'Qwen2ForProcessRewardModel',
  bind(ctx) {
    const { tokenizer, dir, config, options } = ctx;
    if (config.architecture !== 'Qwen2ForProcessRewardModel') {
      throw new PrmFormatError(dir, `the qwen2.5-math-prm format needs a Qwen2ForProcessRewardModel checkpoint (its \`score\` head); config.json names ${config.architecture}`);
    }
    const shape = shapeOf(ctx, 'score.2.weight');
    if (shape !== undefined && shape[0] !== 2) {
      throw new PrmFormatError(dir, `score.2.weight has ${shape[0]} output rows; Qwen2.5-Math-PRM's head has 2 classes (bad, good)`);
    }
    const separatorId = addedToken(tokenizer, dir, QWEN_PRM_SEPARATOR, 'which Qwen2.5-Math-PRM writes after every step');
    const trims = templateTrims(tokenizer, dir, this.name);
    const messages = [
      { role: 'system', content: options.systemPrompt ?? QWEN_PRM_SYSTEM },
      { role: 'user', content: slot(0) },
      { role: 'assistant', content: slot(1) },
    ];
    // Everything after the assistant content (the closing <|im_end|>) follows the last read position, so
    // it never changes a reward and is left out.
    const [beforeQuestion, beforeAnswer] = renderSlots(tokenizer, dir, this.name, messages, 2, false).pieces;
    return {
      name: this.name,
      layout: {
        prefix: (q) => beforeQuestion + (trims ? q.trim() : q) + beforeAnswer,
        step: (s) => ({ text: s.trim() + QWEN_PRM_SEPARATOR, tail: '' }),
        forbidden: [QWEN_PRM_SEPARATOR],
        addSpecialTokens: false,
      },
      head: { kind: 'mlp2', prefix: 'score', outputs: 2 },
      outputs: 2,
      reward: { kind: 'softmax', pick: 1 },
      readToken: separatorId,
    };
  },
};

const mathShepherd: PrmFormat = {
  name: 'math-shepherd',
  summary: 'Math-Shepherd (a causal LM; "question step 1 ки\\n\\nstep 2 ки", reward = P(goodToken) against badToken at each tag; pass format: \'math-shepherd\')',
  bind(ctx) {
    const { tokenizer, dir, options } = ctx;
    needLmHead(ctx, this.name);
    const tag = options.stepTag ?? 'ки';
    if (tag.trim() === '' || tag !== tag.trim()) {
      throw new PrmFormatError(dir, `stepTag must be non-empty text without surrounding whitespace, got ${JSON.stringify(tag)}`);
    }
    // The tag is written after a space, so it is looked up as it appears there.
    const tagText = ` ${tag}`;
    const tagId = singleToken(tokenizer, dir, 'stepTag', tagText);
    const { good, bad } = tokenPair(ctx);
    return {
      name: this.name,
      layout: {
        prefix: (q) => `${q} `,
        step: (s) => {
          const { body, space } = splitStep(s);
          // The model card joins steps with "\n" when a step brings no separator of its own.
          return { text: body + tagText, tail: space === '' ? '\n' : space };
        },
        forbidden: [tag],
        addSpecialTokens: true,
      },
      head: { kind: 'lm-rows', tokenIds: Int32Array.of(good, bad) },
      outputs: 2,
      reward: { kind: 'softmax', pick: 0 },
      readToken: tagId,
    };
  },
};

const rlhflow: PrmFormat = {
  name: 'rlhflow',
  summary: 'RLHFlow (a chat causal LM; each step a user turn, the assistant answers goodToken; reward = P(goodToken) against badToken; pass format: \'rlhflow\')',
  bind(ctx) {
    const { tokenizer, dir } = ctx;
    needLmHead(ctx, this.name);
    const { good, bad, answer } = tokenPair(ctx);
    const trims = templateTrims(tokenizer, dir, this.name);
    const messages = [
      { role: 'user', content: slot(0) },
      { role: 'assistant', content: slot(1) },
      { role: 'user', content: slot(2) },
      { role: 'assistant', content: slot(3) },
    ];
    const [open, toAnswer, toNextTurn, toAnswerAgain] = renderSlots(tokenizer, dir, this.name, messages, 4, false).pieces;
    if (toAnswer !== toAnswerAgain) {
      throw new PrmFormatError(dir, `the chat template writes the first and later user turns differently (${JSON.stringify(toAnswer)} vs ${JSON.stringify(toAnswerAgain)}); the rlhflow format needs uniform turns`);
    }
    return {
      name: this.name,
      layout: {
        // The first user turn is "question step 1" (RLHFlow's prm_evaluate.py).
        prefix: (q) => `${open}${trims ? q.trimStart() : q} `,
        step: (s, i) => {
          const { body } = splitStep(s);
          // Read where the assistant's answer is predicted; the answer and the next turn's header follow.
          return { text: (trims && i > 0 ? body.trimStart() : body) + toAnswer, tail: answer + toNextTurn };
        },
        forbidden: [],
        addSpecialTokens: false,
      },
      head: { kind: 'lm-rows', tokenIds: Int32Array.of(good, bad) },
      outputs: 2,
      reward: { kind: 'softmax', pick: 0 },
    };
  },
};

/** Candidate value heads: `X.weight` of shape [1, hidden] outside the decoder and the LM head. */
function valueHeadCandidates(ctx: HeadContext): string[] {
  const h = ctx.config.hiddenSize;
  const out: string[] = [];
  for (const [name, { entry }] of ctx.checkpoint.where) {
    if (!name.endsWith('.weight') || name.startsWith('model.') || name === 'lm_head.weight') continue;
    if (entry.shape.length === 2 && entry.shape[0] === 1 && entry.shape[1] === h) out.push(name.slice(0, -'.weight'.length));
  }
  return out.sort();
}

function findValueHead(ctx: HeadContext, wanted: string | undefined): string | undefined {
  if (wanted !== undefined) return valueHeadCandidates(ctx).includes(wanted) ? wanted : undefined;
  const found = valueHeadCandidates(ctx);
  return found.length === 1 ? found[0] : undefined;
}

const valueHead: PrmFormat = {
  name: 'value-head',
  summary: 'value head (a Llama/Qwen2 decoder plus one [1, hidden] linear output, e.g. TRL\'s v_head.summary; sigmoid; "question\\nstep 1\\nstep 2\\n"; option valueHead names the tensor prefix)',
  detect: (ctx, options) => findValueHead(ctx, options.valueHead) !== undefined,
  bind(ctx) {
    const { dir, config, options } = ctx;
    const prefix = findValueHead(ctx, options.valueHead);
    if (prefix === undefined) {
      const found = valueHeadCandidates(ctx);
      const named = options.valueHead === undefined ? 'single value head' : `value head named ${JSON.stringify(options.valueHead)}`;
      throw new PrmFormatError(
        dir,
        `the checkpoint has no ${named} (a "<prefix>.weight" tensor of shape [1, ${config.hiddenSize}] outside the decoder); ` +
          (found.length === 0 ? 'it has none' : `candidates: ${found.join(', ')}; pass valueHead to pick one`),
      );
    }
    const biasShape = shapeOf(ctx, `${prefix}.bias`);
    const bias = biasShape !== undefined && biasShape.length === 1 && biasShape[0] === 1;
    return {
      name: this.name,
      layout: {
        prefix: (q) => `${q}\n`,
        step: (s) => ({ text: `${splitStep(s).body}\n`, tail: '' }),
        forbidden: [],
        addSpecialTokens: true,
      },
      head: { kind: 'linear', prefix, outputs: 1, bias },
      outputs: 1,
      reward: { kind: 'sigmoid' },
    };
  },
};

/** Every format by name; detection tries them in this order. */
export const PRM_FORMATS: ReadonlyMap<PrmFormatName, PrmFormat> = new Map(
  [qwenMathPrm, valueHead, mathShepherd, rlhflow].map((f) => [f.name, f]),
);

function formatList(): string {
  return PRM_FORMAT_NAMES.map((n) => `'${n}': ${PRM_FORMATS.get(n)!.summary}`).join('; ');
}

/** The format named by `format`, or the one the checkpoint's files reveal. */
export function chooseFormat(ctx: HeadContext, format: PrmFormatName | undefined, options: PrmFormatOptions): PrmFormat {
  if (format !== undefined) {
    const f = PRM_FORMATS.get(format);
    if (f === undefined) throw new PrmFormatError(ctx.dir, `unknown PRM format ${JSON.stringify(format)}; formats: ${formatList()}`);
    return f;
  }
  // Naming a value-head tensor says which format is meant; binding reports a name that does not exist.
  if (options.valueHead !== undefined) return valueHead;
  for (const f of PRM_FORMATS.values()) if (f.detect?.(ctx, options)) return f;
  const found = valueHeadCandidates(ctx);
  const heads = found.length > 1 ? `several possible value heads (${found.join(', ')})` : 'no value-head tensor';
  throw new PrmFormatError(
    ctx.dir,
    `cannot tell which PRM format this checkpoint uses: config.json names ${ctx.config.architecture}, which has no reward head, ` +
      `and it has ${heads}. Pass \`format\` to loadPrm (e.g. loadPrm(dir, { format: 'math-shepherd' })); formats: ${formatList()}`,
  );
}
