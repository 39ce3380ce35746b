/**
 * Field checks for request bodies: each throws a 400 HttpError whose `param` names the field, so a
 * client sees which field was wrong and why ("`max_tokens` must be an integer ≥ 1, got 0").
 */
import { badField } from './errors.js';

export type Body = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** Refuses keys the endpoint does not know (vLLM refuses extra fields too). */
export function checkKnownKeys(body: Body, known: readonly string[], where = ''): void {
  for (const key of Object.keys(body)) {
    if (!known.includes(key)) throw badField(where + key, `Unknown field \`${where}${key}\``, 'unknown_field');
  }
}

export function optString(body: Body, key: string, where = ''): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badField(where + key, `\`${where}${key}\` must be a string, got ${describe(v)}`, 'invalid_type');
  return v;
}

export function reqString(body: Body, key: string, where = ''): string {
  const v = optString(body, key, where);
  if (v === undefined) throw badField(where + key, `\`${where}${key}\` is required`, 'missing_field');
  return v;
}

export function optBool(body: Body, key: string, where = ''): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw badField(where + key, `\`${where}${key}\` must be a boolean, got ${describe(v)}`, 'invalid_type');
  return v;
}

/** A number in [min, max]; `integer` also requires a whole number. */
export function optNumber(
  body: Body,
  key: string,
  { min = -Infinity, max = Infinity, integer = false }: { min?: number; max?: number; integer?: boolean },
  where = '',
): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  const name = where + key;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badField(name, `\`${name}\` must be a number, got ${describe(v)}`, 'invalid_type');
  if (integer && !Number.isSafeInteger(v)) throw badField(name, `\`${name}\` must be an integer, got ${v}`, 'invalid_type');
  if (v < min || v > max) {
    const range = max === Infinity ? `≥ ${min}` : min === -Infinity ? `≤ ${max}` : `in [${min}, ${max}]`;
    throw badField(name, `\`${name}\` must be ${range}, got ${v}`);
  }
  return v;
}

/** `stop`: a string or an array of non-empty strings (at most `max`). */
export function optStop(body: Body, max = 16): string[] {
  const v = body.stop;
  if (v === undefined || v === null) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list)) throw badField('stop', `\`stop\` must be a string or an array of strings, got ${describe(v)}`, 'invalid_type');
  if (list.length > max) throw badField('stop', `\`stop\` takes at most ${max} strings, got ${list.length}`);
  return list.map((s: unknown, i) => {
    if (typeof s !== 'string') throw badField(`stop[${i}]`, `\`stop[${i}]\` must be a string, got ${describe(s)}`, 'invalid_type');
    if (s.length === 0) throw badField(`stop[${i}]`, `\`stop[${i}]\` must not be empty`);
    return s;
  });
}

/** An array of token ids (non-negative integers below `vocab`). */
export function tokenIds(v: readonly unknown[], param: string, vocab: number): number[] {
  return v.map((t, i) => {
    if (typeof t !== 'number' || !Number.isInteger(t)) throw badField(`${param}[${i}]`, `\`${param}[${i}]\` must be a token id (an integer), got ${describe(t)}`, 'invalid_type');
    if (t < 0 || t >= vocab) throw badField(`${param}[${i}]`, `\`${param}[${i}]\` = ${t} is not a token id of the model (vocabulary size ${vocab})`);
    return t;
  });
}

/**
 * A prompt field as vLLM takes it: a string, an array of strings, an array of token ids, or an array of
 * arrays of token ids. Returns one entry per prompt.
 */
export function promptList(v: unknown, param: string, vocab: number): (string | number[])[] {
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.length === 0) {
    throw badField(param, `\`${param}\` must be a string, an array of strings or an array of token ids`, v === undefined ? 'missing_field' : 'invalid_type');
  }
  if (v.every((x) => typeof x === 'number')) return [tokenIds(v, param, vocab)];
  return v.map((p: unknown, i) => {
    if (typeof p === 'string') return p;
    if (Array.isArray(p) && p.length > 0) return tokenIds(p, `${param}[${i}]`, vocab);
    throw badField(`${param}[${i}]`, `\`${param}[${i}]\` must be a string or a non-empty array of token ids, got ${describe(p)}`, 'invalid_type');
  });
}
