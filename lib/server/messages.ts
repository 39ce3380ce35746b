/** Chat `messages` as OpenAI sends them: role and content (a string, or text parts). */
import type { ChatMessage } from '../models/chat-template.js';
import { badField } from './errors.js';

const ROLES = ['system', 'user', 'assistant', 'developer', 'tool'] as const;

export function readMessages(v: unknown): ChatMessage[] {
  if (!Array.isArray(v) || v.length === 0) {
    throw badField('messages', '`messages` must be a non-empty array of { role, content }', v === undefined ? 'missing_field' : 'invalid_type');
  }
  return v.map((m: unknown, i) => {
    const at = `messages[${i}]`;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw badField(at, `\`${at}\` must be an object`, 'invalid_type');
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== 'string') throw badField(`${at}.role`, `\`${at}.role\` must be a string`, 'invalid_type');
    if (!(ROLES as readonly string[]).includes(role)) throw badField(`${at}.role`, `\`${at}.role\` must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`);
    return { role, content: contentText(content, `${at}.content`) };
  });
}

function contentText(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content)) throw badField(param, `\`${param}\` must be a string or an array of text parts`, 'invalid_type');
  return content
    .map((part: unknown, j) => {
      const p = part as { type?: unknown; text?: unknown } | null;
      if (typeof p !== 'object' || p === null || p.type !== 'text' || typeof p.text !== 'string') {
        throw badField(`${param}[${j}]`, `\`${param}[${j}]\` must be { "type": "text", "text": string } (only text is supported)`, 'invalid_type');
      }
      return p.text;
    })
    .join('');
}

/** The question a search answers: the last user message. */
export function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === 'user') return messages[i]!.content as string;
  throw badField('messages', 'A search needs a user message (its question)');
}
