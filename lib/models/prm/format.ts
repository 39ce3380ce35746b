/**
 * What a PRM format is: a small declarative description. A format says how the question becomes the
 * prefix text, how each step becomes appended text, which head the native model runs, and how one row
 * of head outputs becomes a probability. The engine (Prm) knows nothing else about any family, so a new
 * family is a new description in formats.ts.
 */
import type { NativeHeadSpec } from '../../native/addon-types.js';
import { OptionError, PrmRewardError } from '../../errors.js';
import type { HeadContext } from '../prepare.js';

export const PRM_FORMAT_NAMES = ['qwen2.5-math-prm', 'math-shepherd', 'rlhflow', 'value-head'] as const;
export type PrmFormatName = (typeof PRM_FORMAT_NAMES)[number];

/** How one row of head outputs becomes the step's reward, a probability in [0, 1]. */
export type RewardRule =
  /** softmax over the row, the probability of entry `pick` (class 1 of a 2-way head; `good` of [good, bad]). */
  | { kind: 'softmax'; pick: number }
  /** sigmoid of the row's single value (value heads). */
  | { kind: 'sigmoid' };

/**
 * Text appended for one step. The reward is read at the last token of `text`; `tail` is text that follows
 * the step in the full layout but after the read position (a separator, the assistant's answer and the
 * next turn header): it is held back and written in front of the next step's text, so that the read
 * position is always the newest token.
 */
export interface StepText {
  text: string;
  tail: string;
}

/** How a question and its steps become one text; the reward of step i is read at the end of its text. */
export interface PrmLayout {
  prefix(question: string): string;
  step(step: string, index: number): StepText;
  /** Strings a question or step must not contain (they would add or move read positions). */
  readonly forbidden: readonly string[];
  /** Whether encoding the full text applies the tokenizer's post-processor (e.g. a leading BOS). */
  readonly addSpecialTokens: boolean;
}

/** A format bound to one checkpoint: token ids looked up, template pieces rendered, head chosen. */
export interface BoundFormat {
  name: PrmFormatName;
  layout: PrmLayout;
  head: NativeHeadSpec;
  /** Width of one head output row. */
  outputs: number;
  reward: RewardRule;
  /** The token every read position must hold (a step tag), for formats that mark steps with one. */
  readToken?: number;
}

/** Format options a user can pass to loadPrm (each format reads the ones it needs). */
export interface PrmFormatOptions {
  /** Math-Shepherd's step tag, written after each step with a space. @default 'ки' */
  stepTag?: string;
  /** The token whose probability is the reward (string spelled as in text, or its id). @default '+' */
  goodToken?: string | number;
  /** The competing token. @default '-' */
  badToken?: string | number;
  /** Tensor prefix of a value head (`${valueHead}.weight` [1, hidden], optional `.bias`). @default detected */
  valueHead?: string;
  /** System turn of the Qwen2.5-Math-PRM conversation. @default the model card's */
  systemPrompt?: string;
}

export interface FormatContext extends HeadContext {
  options: PrmFormatOptions;
}

export interface PrmFormat {
  name: PrmFormatName;
  /** One line for error messages: what the format is and how it is recognised. */
  summary: string;
  /** Whether the checkpoint's files say it is in this format. Absent: the files cannot tell (token-pair PRMs are plain causal LMs). */
  detect?(ctx: HeadContext, options: PrmFormatOptions): boolean;
  bind(ctx: FormatContext): BoundFormat;
}

/** Which reward rewardOf computes, for its error: the PRM and the step in words. */
export interface RewardSite {
  prm: string;
  step: string;
}

/**
 * Reward of one output row: row[offset .. offset + width). Computed in double precision. A row that
 * gives no finite reward (NaN anywhere in a softmax row, +∞ at the pick, NaN into the sigmoid) throws a
 * PrmRewardError naming `site`: it never becomes a NaN score.
 */
export function rewardOf(
  rule: RewardRule,
  rows: Float32Array,
  offset: number,
  width: number,
  site: RewardSite = { prm: 'the PRM', step: 'a step' },
): number {
  let r: number;
  if (rule.kind === 'sigmoid') {
    r = 1 / (1 + Math.exp(-rows[offset]));
  } else {
    // softmax(x)[k] = 1 / Σ_j exp(x_j − x_k): no overflow for any finite row.
    const pivot = rows[offset + rule.pick];
    let sum = 0;
    for (let j = 0; j < width; j++) sum += Math.exp(rows[offset + j] - pivot);
    r = 1 / sum;
  }
  if (!Number.isFinite(r)) throw new PrmRewardError(site.prm, site.step, r);
  return r;
}

/**
 * Throws an OptionError when `text` contains a string the format reserves for marking steps, or one of
 * `special`, the texts of the tokenizer's special tokens (tokenizer.specialTokenTexts): either would add
 * or move read positions, or end the PRM's turn inside a step.
 */
export function rejectForbidden(format: BoundFormat, text: string, what: string, special: readonly string[] = []): void {
  for (const bad of format.layout.forbidden) {
    if (text.includes(bad)) {
      throw new OptionError(`${what} contains ${JSON.stringify(bad)}, which the ${format.name} format uses to mark steps`);
    }
  }
  for (const token of special) {
    if (text.includes(token)) {
      throw new OptionError(`${what} contains ${JSON.stringify(token)}, a special token of the PRM's tokenizer, which text must not hold`);
    }
  }
}

/**
 * Checks that `steps` is an array of strings, none empty or whitespace only (a PRM would score a step
 * with no content), free of the format's step markers and of `special` tokens; errors name the step index.
 */
export function checkStepTexts(
  format: BoundFormat,
  steps: unknown,
  call: string,
  special: readonly string[] = [],
): asserts steps is readonly string[] {
  if (!Array.isArray(steps)) throw new OptionError(`${call} expects an array of step texts`);
  steps.forEach((s: unknown, i) => {
    if (typeof s !== 'string') throw new OptionError(`step ${i} must be a string, got ${typeof s}`);
    if (s.trim().length === 0) {
      throw new OptionError(`step ${i} is ${s.length === 0 ? 'empty' : 'whitespace only'}: ${call} scores steps that have text`);
    }
    rejectForbidden(format, s, `step ${i}`, special);
  });
}
