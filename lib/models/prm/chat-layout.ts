/**
 * Chat-template pieces for chat-formatted PRMs. The checkpoint's template is rendered once with
 * placeholder contents; the text between placeholders is the glue (turn headers, end-of-turn tokens,
 * default system turn) that the layout then writes around the real question and steps. So the layout
 * follows whatever template the checkpoint ships, with no per-family strings in code.
 */
import type { ChatMessage } from '../chat-template.js';
import type { TextTokenizer } from '../tokenizer.js';
import { PrmFormatError } from './errors.js';

/** Placeholder i: private-use code points that no template or tokenizer gives meaning to. */
export const slot = (i: number): string => `\uE000${i}\uE001`;

export interface RenderedSlots {
  /** pieces[i] is the text before slot i; the last entry is the text after the last slot. */
  pieces: string[];
}

/**
 * Renders `messages` (whose contents contain slot(0), slot(1), … in order) and cuts the text at the
 * slots. Each slot must appear exactly once and in order, or the template does not copy contents verbatim.
 */
export function renderSlots(
  tokenizer: TextTokenizer,
  dir: string,
  format: string,
  messages: readonly ChatMessage[],
  slots: number,
  addGenerationPrompt: boolean,
): RenderedSlots {
  const text = tokenizer.applyChatTemplate(messages, { addGenerationPrompt });
  const pieces: string[] = [];
  let at = 0;
  for (let i = 0; i < slots; i++) {
    const mark = slot(i);
    const found = text.indexOf(mark, at);
    if (found < 0 || text.indexOf(mark, found + mark.length) >= 0) {
      throw new PrmFormatError(
        dir,
        `the chat template does not copy message contents verbatim (placeholder ${i} is missing, repeated or out of order), ` +
          `which the ${format} format needs to place the question and steps`,
      );
    }
    pieces.push(text.slice(at, found));
    at = found + mark.length;
  }
  pieces.push(text.slice(at));
  return { pieces };
}

/** Whether the template strips whitespace around message contents (Llama 3's `| trim`). */
export function templateTrims(tokenizer: TextTokenizer, dir: string, format: string): boolean {
  const padded = ` ${slot(0)} `;
  const text = tokenizer.applyChatTemplate([{ role: 'user', content: padded }], { addGenerationPrompt: true });
  if (text.includes(padded)) return false;
  if (text.includes(slot(0))) return true;
  throw new PrmFormatError(dir, `the chat template does not copy message contents into the prompt, which the ${format} format needs`);
}
