/**
 * Chat templates: the Jinja program a checkpoint ships in tokenizer_config.json (`chat_template`)
 * that turns a list of messages into the prompt text the model was trained on, rendered with
 * @huggingface/jinja the way transformers' `apply_chat_template` renders it.
 */
import { Template } from '@huggingface/jinja';
import { OptionError } from '../errors.js';
import { describeValue } from '../util/options.js';
import { ChatTemplateError } from './errors.js';
import { renderBounded, type TemplateLimits } from './template-render.js';

export interface ChatMessage {
  role: string;
  content: string;
  /** Templates may read more fields (tool calls, names); they are passed through. */
  [key: string]: unknown;
}

export interface ChatTemplateOptions {
  /** Append the assistant header so the model continues as the assistant. @default false */
  addGenerationPrompt?: boolean;
  /** Which template of a list-valued `chat_template` to use. @default 'default' */
  templateName?: string;
  /** Extra variables for the template (e.g. `tools`, `enable_thinking`). */
  variables?: Record<string, unknown>;
  /** Bounds on the template's work (steps, string and list sizes, time); see TemplateLimits. */
  limits?: TemplateLimits;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** tokenizer_config.json's bos_token / eos_token: a plain string or an AddedToken object with `content`. */
export function specialTokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

/** The template source: a string, or the named entry of a list of {name, template}. */
export function chatTemplateSource(tokenizerConfig: Readonly<Record<string, unknown>>, name = 'default'): string {
  const t = tokenizerConfig.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const entry = t.find((e) => isObject(e) && e.name === name);
    if (isObject(entry) && typeof entry.template === 'string') return entry.template;
    const names = t.filter(isObject).map((e) => JSON.stringify(e.name));
    throw new ChatTemplateError(`tokenizer_config.json has no chat template named ${JSON.stringify(name)} (it has ${names.join(', ') || 'none'})`);
  }
  throw new ChatTemplateError(
    'this model has no chat template (no "chat_template" in tokenizer_config.json and no chat_template.jinja); ' +
      'format the prompt yourself or add a template',
  );
}

// Parsing is the expensive part; a process renders few distinct templates many times.
const parsed = new Map<string, Template>();

function compile(source: string): Template {
  let t = parsed.get(source);
  if (t === undefined) {
    try {
      t = new Template(source);
    } catch (err) {
      throw new ChatTemplateError(`the chat template does not parse: ${(err as Error).message}`, { cause: err });
    }
    parsed.set(source, t);
  }
  return t;
}

/** Renders `messages` into prompt text with the checkpoint's chat template. */
export function applyChatTemplate(
  tokenizerConfig: Readonly<Record<string, unknown>>,
  messages: readonly ChatMessage[],
  options: ChatTemplateOptions = {},
): string {
  const list: unknown = messages;
  if (!Array.isArray(list)) {
    throw new OptionError(`Expected \`messages\` to be an array of {role, content} objects, got ${describeValue(list)}`);
  }
  list.forEach((m: unknown, i) => {
    if (!isObject(m) || typeof m.role !== 'string' || typeof m.content !== 'string') {
      throw new OptionError(`Expected messages[${i}] to be {role: string, content: string}, got ${JSON.stringify(m) ?? describeValue(m)}`);
    }
  });
  const template = compile(chatTemplateSource(tokenizerConfig, options.templateName));
  const context: Record<string, unknown> = {
    ...options.variables,
    messages: messages.map((m) => ({ ...m })),
    add_generation_prompt: options.addGenerationPrompt ?? false,
  };
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const) {
    const text = specialTokenText(tokenizerConfig[key]);
    if (text !== undefined && !(key in context)) context[key] = text;
  }
  return renderBounded(template, context, options.limits);
}
