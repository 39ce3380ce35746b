/**
 * Text layouts a remote backend sends: the policy's chat prompt, and the PRM's input for a question and
 * the steps scored so far. Pure text: no tokenizer and no model is loaded here (a checkpoint's chat
 * template, when one is given, is rendered from its tokenizer_config.json).
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { OptionError } from '../../errors.js';
import { applyChatTemplate, type ChatMessage } from '../../models/chat-template.js';

/** Renders messages into prompt text (a chat template). */
export type ChatRenderer = (messages: readonly ChatMessage[], addGenerationPrompt: boolean) => string;

/**
 * ChatML, the template of Qwen2/2.5 instruct models and of the shipped demo models:
 * `<|im_start|>{role}\n{content}<|im_end|>\n` per message, then `<|im_start|>assistant\n` to prompt a reply.
 * (Qwen2.5's own template also inserts a default system turn when there is none; pass that checkpoint's
 * tokenizer folder to get it.)
 */
export const chatml: ChatRenderer = (messages, addGenerationPrompt) =>
  messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join('') +
  (addGenerationPrompt ? '<|im_start|>assistant\n' : '');

/** The chat template of a checkpoint folder (tokenizer_config.json's `chat_template`, or chat_template.jinja). */
export function chatTemplateOf(dir: string): ChatRenderer {
  const configPath = path.join(dir, 'tokenizer_config.json');
  if (!existsSync(configPath)) throw new OptionError(`${dir} has no tokenizer_config.json to read a chat template from`);
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  const jinja = path.join(dir, 'chat_template.jinja');
  if (config.chat_template === undefined && existsSync(jinja)) config.chat_template = readFileSync(jinja, 'utf8');
  return (messages, addGenerationPrompt) => applyChatTemplate(config, messages, { addGenerationPrompt });
}

/** The text before a message's content when rendered last in `messages` (a marker is cut out). */
function textBefore(render: ChatRenderer, messages: readonly ChatMessage[]): string {
  const marker = '\u0000THINKTREE_SLOT\u0000';
  const last = messages[messages.length - 1]!;
  const text = render([...messages.slice(0, -1), { ...last, content: marker }], false);
  const at = text.indexOf(marker);
  if (at < 0) throw new OptionError('the chat template does not copy message contents into the prompt');
  return text.slice(0, at);
}

/** How a question and its scored steps become the PRM's input, and which output is the reward. */
export interface PrmTextLayout {
  readonly name: string;
  /** The whole input for a question and the steps so far; each step ends at one step tag. */
  text(question: string, steps: readonly string[]): string;
  /** Which class of a step's probability row is "the step is correct". */
  readonly rewardClass: number;
  /** Strings a step must not contain (they would add step tags). */
  readonly forbidden: readonly string[];
  /** Whether the server should add the tokenizer's special tokens (a BOS) to the text. @default false */
  readonly addSpecialTokens?: boolean;
}

/** The system turn of the Qwen2.5-Math-PRM model card's example. */
export const QWEN_PRM_SYSTEM = 'Please reason step by step, and put your final answer within \\boxed{}.';

/**
 * Qwen2.5-Math-PRM (model card): system turn, the question as the user turn, and the assistant turn
 * holding the steps, each stripped and followed by `<extra_0>`. vLLM's STEP pooler returns one
 * [bad, good] probability row per `<extra_0>`. The closing `<|im_end|>` is left out: the model is causal,
 * so text after the last tag changes no reward (the native PRM reads the same prefix).
 */
export function qwenMathPrmLayout(render: ChatRenderer = chatml, system = QWEN_PRM_SYSTEM): PrmTextLayout {
  const prefix = new Map<string, string>();
  return {
    name: 'qwen2.5-math-prm',
    rewardClass: 1,
    forbidden: ['<extra_0>'],
    text(question, steps) {
      let head = prefix.get(question);
      if (head === undefined) {
        head = textBefore(render, [
          { role: 'system', content: system },
          { role: 'user', content: question },
          { role: 'assistant', content: '' },
        ]);
        if (prefix.size > 256) prefix.clear();
        prefix.set(question, head);
      }
      return head + steps.map((s) => `${s.trim()}<extra_0>`).join('');
    },
  };
}

/**
 * Math-Shepherd: `question step1 ки\n\nstep2 ки` (the tag after a space; a step's trailing whitespace
 * follows its tag, "\n" when it has none). Served by vLLM with `--pooler-config '{"pooling_type":
 * "STEP", "step_tag_id": <id of " ки">, "returned_token_ids": [<good>, <bad>]}'`, so a row is
 * [good, bad] and the reward is class 0.
 */
export function mathShepherdLayout(tag = 'ки'): PrmTextLayout {
  return {
    name: 'math-shepherd',
    rewardClass: 0,
    forbidden: [tag],
    // Plain text, not a chat template: the model card's input starts with the tokenizer's BOS.
    addSpecialTokens: true,
    text(question, steps) {
      const parts = steps.map((s, i) => {
        const body = s.replace(/\s+$/u, '');
        const space = s.slice(body.length);
        return `${body} ${tag}${i < steps.length - 1 ? space || '\n' : ''}`;
      });
      return `${question} ${parts.join('')}`;
    },
  };
}

/**
 * An outcome reward model's input (`/classify`): the question as the user turn and the solution so far
 * as the assistant turn, whole.
 */
export function outcomeText(render: ChatRenderer, question: string, steps: readonly string[]): string {
  return render(
    [
      { role: 'user', content: question },
      { role: 'assistant', content: steps.join('').trimEnd() },
    ],
    false,
  );
}
