/**
 * Small runtime checks for JSON bodies of the OpenAI / vLLM wire formats. A reader walks one object,
 * reports the first bad field as a ProtocolError naming its JSON path, and never coerces types. Unknown
 * fields are left alone, as vLLM's OpenAIBaseModel does (it warns and ignores them).
 */

/** A body that does not have the shape the wire format requires. `param` is the offending field's path. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    message: string,
    /** JSON path of the bad field (`choices[0].text`), or null when the body as a whole is bad. */
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${typeof v === 'object' ? '' : String(v)}`.trim();
}

/** Parses JSON text, naming what was received when it is not JSON. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const shown = text.length > 120 ? `${text.slice(0, 120)}…` : text;
    throw new ProtocolError(`${what} is not JSON: ${JSON.stringify(shown)}`);
  }
}

interface NumberBounds {
  min?: number;
  max?: number;
  integer?: boolean;
}

/** Reads typed fields of one JSON object; every failure names the field's path. */
export class FieldReader {
  constructor(
    readonly obj: JsonObject,
    readonly path: string,
  ) {}

  static of(v: unknown, path: string, what = 'an object'): FieldReader {
    if (!isObject(v)) throw new ProtocolError(`${path || 'the body'} must be ${what}, got ${describe(v)}`, path || null);
    return new FieldReader(v, path);
  }

  at(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  fail(key: string, expected: string): never {
    throw new ProtocolError(`${this.at(key)} must be ${expected}, got ${describe(this.obj[key])}`, this.at(key));
  }

  string(key: string): string {
    const v = this.obj[key];
    if (typeof v !== 'string') this.fail(key, 'a string');
    return v;
  }

  optString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  /** A string, or null (kept as null), e.g. `finish_reason`. */
  nullableString(key: string): string | null {
    const v = this.obj[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') this.fail(key, 'a string or null');
    return v;
  }

  number(key: string, bounds: NumberBounds = {}): number {
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, bounds.integer ? 'an integer' : 'a number');
    if (bounds.integer && !Number.isInteger(v)) this.fail(key, 'an integer');
    if (bounds.min !== undefined && v < bounds.min) {
      throw new ProtocolError(`${this.at(key)} must be ≥ ${bounds.min}, got ${v}`, this.at(key));
    }
    if (bounds.max !== undefined && v > bounds.max) {
      throw new ProtocolError(`${this.at(key)} must be ≤ ${bounds.max}, got ${v}`, this.at(key));
    }
    return v;
  }

  optNumber(key: string, bounds: NumberBounds = {}): number | undefined {
    return this.has(key) ? this.number(key, bounds) : undefined;
  }

  optBoolean(key: string): boolean | undefined {
    if (!this.has(key)) return undefined;
    const v = this.obj[key];
    if (typeof v !== 'boolean') this.fail(key, 'a boolean');
    return v;
  }

  array(key: string): unknown[] {
    const v = this.obj[key];
    if (!Array.isArray(v)) this.fail(key, 'an array');
    return v;
  }

  object(key: string): FieldReader {
    return FieldReader.of(this.obj[key], this.at(key));
  }

  optObject(key: string): FieldReader | undefined {
    return this.has(key) ? this.object(key) : undefined;
  }

  /** A string or an array of strings, as `stop` is sent. */
  optStrings(key: string): string[] | undefined {
    if (!this.has(key)) return undefined;
    const v = this.obj[key];
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
    this.fail(key, 'a string or an array of strings');
  }

  /** One of `allowed`, or undefined when absent. */
  optEnum<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    if (!this.has(key)) return undefined;
    const v = this.obj[key];
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(key, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
    }
    return v as T;
  }
}

/** Each element of an array read by `read`, with `path[i]` in failures. */
export function eachOf<T>(items: unknown[], path: string, read: (r: FieldReader, i: number) => T): T[] {
  return items.map((item, i) => read(FieldReader.of(item, `${path}[${i}]`), i));
}

/** An array of finite numbers (a row of class probabilities, an embedding). */
export function numberArray(v: unknown, path: string): number[] {
  if (!Array.isArray(v)) throw new ProtocolError(`${path} must be an array of numbers, got ${describe(v)}`, path);
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new ProtocolError(`${path}[${i}] must be a number, got ${describe(x)}`, `${path}[${i}]`);
    }
  });
  return v as number[];
}

/**
 * A prompt as `/v1/completions` and `/pooling` accept it: a string, an array of strings, an array of token
 * ids, or an array of token-id arrays. Returned as a list of prompts.
 */
export function readPrompts(v: unknown, path: string): (string | number[])[] {
  const isIds = (x: unknown): x is number[] =>
    Array.isArray(x) && x.every((t) => typeof t === 'number' && Number.isInteger(t) && t >= 0);
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) {
    if (v.length === 0) throw new ProtocolError(`${path} must not be empty`, path);
    if (v.every((x) => typeof x === 'string')) return v as string[];
    if (isIds(v)) return [v];
    if (v.every(isIds)) return v as number[][];
  }
  throw new ProtocolError(
    `${path} must be a string, an array of strings, an array of token ids or an array of token-id arrays, got ${describe(v)}`,
    path,
  );
}
