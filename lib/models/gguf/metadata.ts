/** Typed access to GGUF metadata, with errors that name the file, the key, and what was expected. */
import { GgufError } from '../errors.js';
import type { GgufScalar, GgufValue } from './format.js';
import type { GgufFile } from './reader.js';

const INT_TYPES = new Set(['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'u64', 'i64']);
const FLOAT_TYPES = new Set(['f32', 'f64']);

const describe = (v: GgufValue): string =>
  v.type === 'array' ? `an array of ${v.value.length} ${v.itemType}` : `${v.type} ${typeof v.value === 'string' ? JSON.stringify(v.value.slice(0, 60)) : String(v.value)}`;

export class GgufMetadata {
  constructor(readonly gguf: GgufFile) {}

  get file(): string {
    return this.gguf.file;
  }

  fail(key: string, message: string): GgufError {
    return new GgufError(this.gguf.file, `metadata ${JSON.stringify(key)} ${message}`, key);
  }

  has(key: string): boolean {
    return this.gguf.metadata.has(key);
  }

  private need(key: string): GgufValue {
    const v = this.gguf.metadata.get(key);
    if (v === undefined) throw new GgufError(this.gguf.file, `missing required metadata ${JSON.stringify(key)}`, key);
    return v;
  }

  /** A non-negative integer of any integer type (u32 and u64 both occur in the wild for the same key). */
  count(key: string, fallback?: number): number {
    if (fallback !== undefined && !this.has(key)) return fallback;
    const v = this.need(key);
    const n = INT_TYPES.has(v.type) ? Number(v.value) : NaN;
    if (!Number.isSafeInteger(n) || n < 0) throw this.fail(key, `must be a non-negative integer, got ${describe(v)}`);
    return n;
  }

  positiveCount(key: string, fallback?: number): number {
    const n = this.count(key, fallback);
    if (n === 0) throw this.fail(key, 'must be a positive integer, got 0');
    return n;
  }

  optionalCount(key: string): number | undefined {
    return this.has(key) ? this.count(key) : undefined;
  }

  number(key: string, fallback?: number): number {
    if (fallback !== undefined && !this.has(key)) return fallback;
    const v = this.need(key);
    if (!FLOAT_TYPES.has(v.type) && !INT_TYPES.has(v.type)) throw this.fail(key, `must be a number, got ${describe(v)}`);
    const n = Number(v.value);
    if (!Number.isFinite(n)) throw this.fail(key, `must be a finite number, got ${n}`);
    return n;
  }

  string(key: string): string | undefined {
    const v = this.gguf.metadata.get(key);
    if (v === undefined) return undefined;
    if (v.type !== 'string') throw this.fail(key, `must be a string, got ${describe(v)}`);
    return v.value;
  }

  requiredString(key: string): string {
    const s = this.string(key);
    if (s === undefined) throw new GgufError(this.gguf.file, `missing required metadata ${JSON.stringify(key)}`, key);
    return s;
  }

  bool(key: string): boolean | undefined {
    const v = this.gguf.metadata.get(key);
    if (v === undefined) return undefined;
    if (v.type !== 'bool') throw this.fail(key, `must be a bool, got ${describe(v)}`);
    return v.value;
  }

  /** An array whose items are all of one of `types`. */
  array(key: string, types: readonly string[]): readonly GgufScalar[] | undefined {
    const v = this.gguf.metadata.get(key);
    if (v === undefined) return undefined;
    if (v.type !== 'array' || !types.includes(v.itemType)) {
      throw this.fail(key, `must be an array of ${types.join(' or ')}, got ${describe(v)}`);
    }
    return v.value;
  }
}
