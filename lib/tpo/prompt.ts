/**
 * Thought prompts: the instruction wrapped in text that asks the model to think first, and the marker
 * that separates the thought from the response in what it writes (Wu et al. 2024, "Thinking LLMs",
 * arXiv 2410.10630, section 2.1). The judge later reads the response only, so the marker is what makes
 * the thought hidden.
 */
import { OptionError } from '../errors.js';

/** Where the instruction goes in a template. */
export const INSTRUCTION_SLOT = '{instruction}';

export interface ThoughtPrompt {
  /** One line for logs and summaries. */
  name: string;
  /** The user turn; `{instruction}` (exactly once) is replaced by the instruction. */
  template: string;
  /** The text the model writes between its thought and its response. */
  marker: string;
  /**
   * For the no-thought baseline of models that always think unless made to answer at once: text the
   * assistant turn is started with, so the model writes its response directly. Absent: the baseline
   * is the instruction alone, answered as the model likes.
   */
  directPrefix?: string;
}

/**
 * The paper's generic thought prompt: the model is free to write its thought in any form, then the
 * response after "Here is my response:".
 */
export const GENERIC_THOUGHT_PROMPT: ThoughtPrompt = Object.freeze({
  name: 'generic',
  template:
    'Respond to the following user query in a comprehensive and detailed way. You can write down your thought ' +
    'process before responding. Write your thoughts after "Here is my thought process:" and write your response ' +
    'after "Here is my response:".\n\nUser query: {instruction}',
  marker: 'Here is my response:',
});

/**
 * The paper's specific thought prompt: a draft response and its evaluation in the thought, the final
 * response after "<R>".
 */
export const SPECIFIC_THOUGHT_PROMPT: ThoughtPrompt = Object.freeze({
  name: 'specific',
  template:
    'Respond to the following user query in a comprehensive and detailed way. But first write down your internal ' +
    'thoughts. This must include your draft response and its evaluation. After this, write your final response ' +
    'after "<R>".\nUser query: {instruction}',
  marker: '<R>',
});

/**
 * For models trained on worked solutions, such as the shipped arithmetic policy (models/policy), which
 * follow no English instruction: the user turn is the problem itself (the format it was trained on),
 * the thought is its worked steps and the response is its final line after "The answer is".
 */
export const ANSWER_LINE_PROMPT: ThoughtPrompt = Object.freeze({
  name: 'answer-line',
  template: INSTRUCTION_SLOT,
  marker: 'The answer is',
  directPrefix: 'The answer is',
});

/** The named prompts, for the CLI's --thought-prompt. */
export const THOUGHT_PROMPTS: Readonly<Record<string, ThoughtPrompt>> = Object.freeze({
  generic: GENERIC_THOUGHT_PROMPT,
  specific: SPECIFIC_THOUGHT_PROMPT,
  'answer-line': ANSWER_LINE_PROMPT,
});

/** Throws an OptionError unless the template holds `{instruction}` once and the marker is non-blank. */
export function checkThoughtPrompt(prompt: ThoughtPrompt): void {
  if (typeof prompt !== 'object' || prompt === null) throw new OptionError(`Expected \`thoughtPrompt\` to be an object, got ${String(prompt)}`);
  if (typeof prompt.template !== 'string') throw new OptionError(`Expected \`thoughtPrompt.template\` to be a string, got ${typeof prompt.template}`);
  const slots = prompt.template.split(INSTRUCTION_SLOT).length - 1;
  if (slots !== 1) {
    throw new OptionError(`Expected \`thoughtPrompt.template\` to contain ${INSTRUCTION_SLOT} exactly once, got ${slots} times`);
  }
  if (typeof prompt.marker !== 'string' || prompt.marker.trim() === '') {
    throw new OptionError(`Expected \`thoughtPrompt.marker\` to be a non-blank string, got ${JSON.stringify(prompt.marker)}`);
  }
  if (prompt.directPrefix !== undefined && typeof prompt.directPrefix !== 'string') {
    throw new OptionError(`Expected \`thoughtPrompt.directPrefix\` to be a string when given, got ${typeof prompt.directPrefix}`);
  }
}

/** The user turn for `instruction` under `prompt`. */
export function applyThoughtPrompt(prompt: ThoughtPrompt, instruction: string): string {
  // A function replacement, so `$&` and friends in the instruction stay literal.
  return prompt.template.replace(INSTRUCTION_SLOT, () => instruction);
}
