/**
 * Unknown keys in an options object. TypeScript callers learn of a misspelled option (`beamWdith`) from the
 * types; plain-JavaScript callers would have it ignored silently and run with the default. Every public
 * function that takes an options object checks its keys here first.
 */
import { OptionError } from '../errors.js';

/**
 * The key list of an options type, checked by the compiler in both directions: a key that is not an option
 * does not compile, and neither does a list that leaves an option out.
 *   const KEYS = optionKeys<GenerateOptions>()(['maxTokens', 'stop', 'seed', ...]);
 */
export function optionKeys<T>() {
  return <const K extends readonly (keyof T & string)[]>(
    keys: K & ([Exclude<keyof T, K[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, K[number]> }),
  ): readonly string[] => keys;
}

/** A value in words for messages: `null`, `an array`, `the string "0.5"`, `5`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === undefined) return String(v);
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Edit distance with adjacent transpositions (optimal string alignment), case-insensitive. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => [i, ...new Array<number>(y.length).fill(0)]);
  for (let j = 1; j <= y.length; j++) d[0]![j] = j;
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[x.length]![y.length]!;
}

/** The known key closest to `key`, when it is close enough to be a misspelling of it (first on ties). */
export function closestKey(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.min(3, Math.floor(key.length / 3)));
  for (const k of known) {
    const dist = distance(key, k);
    if (dist < bestDistance || (best === null && dist === bestDistance)) {
      best = k;
      bestDistance = dist;
    }
  }
  return best;
}

/**
 * Throws OptionError for the first key of `options` that is not in `known`:
 * "Unknown option `beamWdith` in search options; did you mean `beamWidth`?". `where` names the options
 * object. Undefined or null `options` pass (the caller applies its defaults).
 */
export function checkOptionKeys(options: unknown, known: readonly string[], where: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new OptionError(`Expected ${where} to be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = closestKey(key, known);
    const hint = near === null ? `; known options: ${known.join(', ')}` : `; did you mean \`${near}\`?`;
    throw new OptionError(`Unknown option \`${key}\` in ${where}${hint}`);
  }
}
