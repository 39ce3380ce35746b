/**
 * Bounded rendering of chat templates. A template comes from a downloaded tokenizer_config.json and
 * runs synchronously on the event loop, so a hostile or broken one (`{% for i in range(10**8) %}`, a
 * string doubled in a loop) would freeze the process or exhaust its heap. Rendering here counts the
 * interpreter's evaluation steps, watches the clock, and caps every string and list a step produces;
 * past a limit it stops with a ChatTemplateError naming the limit. Real templates stay far below: the
 * Qwen2.5 template with tools over 100 messages takes about 2·10^4 steps.
 */
import * as jinja from '@huggingface/jinja';
import { ChatTemplateError } from './errors.js';

// The package's .d.ts imports its runtime types extension-less, which NodeNext resolution cannot follow,
// so the two classes used here are typed by hand: a scope of variables and the tree-walking interpreter.
interface RuntimeValue {
  value: unknown;
}
interface Scope {
  set(name: string, value: unknown): unknown;
}
interface InterpreterLike {
  evaluate(statement: unknown, environment: Scope): RuntimeValue;
  run(program: unknown): RuntimeValue;
}
const Environment = jinja.Environment as unknown as new () => Scope;
const Interpreter = jinja.Interpreter as unknown as new (env: Scope) => InterpreterLike;

/** How much work one render may do. */
export interface TemplateLimits {
  /** Interpreter evaluation steps (each expression, statement or loop iteration counts). @default 2_000_000 */
  maxSteps?: number;
  /** Characters of any string the template builds, the output included. @default 16_777_216 */
  maxChars?: number;
  /** Items of any list the template builds (`range()` included). @default 1_000_000 */
  maxItems?: number;
  /** Wall-clock time of one render, in milliseconds. @default 2000 */
  timeoutMs?: number;
}

export const DEFAULT_TEMPLATE_LIMITS: Readonly<Required<TemplateLimits>> = {
  maxSteps: 2_000_000,
  maxChars: 16 * 1024 * 1024,
  maxItems: 1_000_000,
  timeoutMs: 2000,
};

class TemplateLimitError extends ChatTemplateError {}

/** An Interpreter that counts its steps and checks every value it produces against the limits. */
class BoundedInterpreter extends Interpreter {
  private steps = 0;
  private readonly deadline: number;

  constructor(
    env: Scope,
    private readonly limits: Readonly<Required<TemplateLimits>>,
  ) {
    super(env);
    this.deadline = Date.now() + limits.timeoutMs;
  }

  override evaluate(statement: unknown, environment: Scope): RuntimeValue {
    const l = this.limits;
    if (++this.steps > l.maxSteps) throw new TemplateLimitError(`the chat template ran more than ${l.maxSteps} steps (a runaway loop?)`);
    // Every step: one step can be a whole loop of up to maxItems iterations with an empty body.
    if (Date.now() > this.deadline) {
      throw new TemplateLimitError(`the chat template ran longer than ${l.timeoutMs} ms`);
    }
    const value = super.evaluate(statement, environment);
    const v: unknown = value?.value;
    if (typeof v === 'string' && v.length > l.maxChars) {
      throw new TemplateLimitError(`the chat template built a string of ${v.length} characters, more than ${l.maxChars}`);
    }
    if (Array.isArray(v) && v.length > l.maxItems) {
      throw new TemplateLimitError(`the chat template built a list of ${v.length} items, more than ${l.maxItems}`);
    }
    return value;
  }
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Python's `strftime` for the directives chat templates use (Llama 3.x: `%d %b %Y`), C locale. */
export function strftime(date: Date, format: string): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const dayOfYear = Math.floor((Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()) - Date.UTC(date.getFullYear(), 0, 1)) / 86_400_000) + 1;
  return format.replace(/%[YymdbBaAHIMSpj%]/g, (t) => {
    switch (t) {
      case '%Y': return String(date.getFullYear());
      case '%y': return pad(date.getFullYear() % 100);
      case '%m': return pad(date.getMonth() + 1);
      case '%d': return pad(date.getDate());
      case '%b': return MONTHS[date.getMonth()]!.slice(0, 3);
      case '%B': return MONTHS[date.getMonth()]!;
      case '%a': return DAYS[date.getDay()]!.slice(0, 3);
      case '%A': return DAYS[date.getDay()]!;
      case '%H': return pad(date.getHours());
      case '%I': return pad(((date.getHours() + 11) % 12) + 1);
      case '%M': return pad(date.getMinutes());
      case '%S': return pad(date.getSeconds());
      case '%p': return date.getHours() < 12 ? 'AM' : 'PM';
      case '%j': return pad(dayOfYear, 3);
      default: return '%';
    }
  });
}

/** The globals transformers gives every chat template, with `range` capped at `maxItems`. */
function templateGlobals(limits: Readonly<Required<TemplateLimits>>): Record<string, unknown> {
  return {
    false: false,
    true: true,
    none: null,
    False: false,
    True: true,
    None: null,
    raise_exception: (message: unknown) => {
      throw new ChatTemplateError(`the chat template failed to render: it raised an exception: ${String(message)}`);
    },
    range: (start: number, stop?: number, step = 1) => {
      const [a, b] = stop === undefined ? [0, start] : [start, stop];
      if (typeof a !== 'number' || typeof b !== 'number' || typeof step !== 'number') throw new Error('range() expects numbers');
      if (step === 0) throw new Error('range() step must not be zero');
      const count = Math.max(0, Math.ceil((b - a) / step));
      if (count > limits.maxItems) throw new TemplateLimitError(`the chat template called range() for ${count} items, more than ${limits.maxItems}`);
      return Array.from({ length: count }, (_, i) => a + i * step);
    },
    strftime_now: (format: unknown) => strftime(new Date(), String(format)),
  };
}

/** `template` rendered with `context`, within `limits` (defaults: DEFAULT_TEMPLATE_LIMITS). */
export function renderBounded(template: jinja.Template, context: Record<string, unknown>, limits: TemplateLimits = {}): string {
  const l = { ...DEFAULT_TEMPLATE_LIMITS, ...limits };
  const env = new Environment();
  for (const [k, v] of Object.entries({ ...templateGlobals(l), ...context })) env.set(k, v);
  try {
    const out = new BoundedInterpreter(env, l).run(template.parsed).value;
    return typeof out === 'string' ? out : String(out);
  } catch (err) {
    if (err instanceof ChatTemplateError) throw err;
    // Deep recursion in a macro, "Invalid string length" from a huge repeat: the engine's own limits.
    throw new ChatTemplateError(`the chat template failed to render: ${(err as Error).message}`, { cause: err });
  }
}
