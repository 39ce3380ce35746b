import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GgufError } from '../../../lib/models/errors.js';
import { alignUp } from '../../../lib/models/gguf/format.js';
import { parseGguf, type GgufFile } from '../../../lib/models/gguf/reader.js';
import { encodeGguf } from '../../../lib/models/gguf/writer.js';

/** Block layouts restated from ggml for the types the fuzzed file uses: [elements per block, bytes per block]. */
const BLOCK: Record<string, [number, number]> = { F32: [1, 4], F16: [1, 2], BF16: [1, 2], Q8_0: [32, 34], Q4_K: [256, 144], I32: [1, 4] };

/** What a successful parse promises, checked from scratch. */
function checkInvariants(buf: Uint8Array, g: GgufFile): void {
  expect(g.dataStart % g.alignment).toBe(0);
  let at = 0;
  for (const t of g.tensors.values()) {
    const [bs, bb] = BLOCK[t.type.name] ?? [t.type.blockSize, t.type.blockBytes];
    expect(t.ne[0]! % bs).toBe(0);
    expect(t.byteLength).toBe((t.ne.reduce((a, b) => a * b, 1) / bs) * bb);
    expect(t.offset).toBe(at);
    expect(g.dataStart + t.offset + t.byteLength).toBeLessThanOrEqual(buf.length);
    at = alignUp(t.offset + t.byteLength, g.alignment);
  }
  expect(buf.length).toBeLessThanOrEqual(g.dataStart + at);
}

/** Runs the parser; anything thrown must be a GgufError, anything returned must be sound. */
function parsesOrRejectsCleanly(buf: Uint8Array): boolean {
  let g: GgufFile;
  try {
    g = parseGguf(buf, 'fuzz.gguf');
  } catch (err) {
    if (!(err instanceof GgufError)) throw new Error(`parser threw ${String(err)} (not a GgufError)`);
    return true;
  }
  checkInvariants(buf, g);
  return true;
}

const valid = encodeGguf(
  [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['llama.block_count', { type: 'u32', value: 2 }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: ['a', 'b', 'ab'] }],
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'f32', value: [0, -1, -2] }],
    ['x', { type: 'u64', value: 5n }],
  ],
  [
    { name: 'token_embd.weight', type: 'F32', shape: [3, 2], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
    { name: 'output_norm.weight', type: 'BF16', shape: [2], data: Uint16Array.of(0x3f80, 0x4000) },
    { name: 'blk.0.attn_q.weight', type: 'Q8_0', shape: [1, 32], data: new Uint8Array(34).fill(3) },
  ],
);
const headerEnd = parseGguf(valid).dataStart;
const headerPos = fc.integer({ min: 0, max: headerEnd - 1 });

describe('GGUF parser under fuzzing', () => {
  it('random bytes after a correct magic either parse soundly or raise GgufError', () => {
    const file = fc.uint8Array({ maxLength: 160 }).map((tail) => Uint8Array.from([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0, ...tail]));
    fc.assert(fc.property(file, parsesOrRejectsCleanly), { numRuns: 500 });
  });

  it('a valid file with one header byte flipped parses soundly or raises GgufError', () => {
    fc.assert(
      fc.property(headerPos, fc.integer({ min: 1, max: 255 }), (pos, x) => {
        const buf = valid.slice();
        buf[pos] ^= x;
        return parsesOrRejectsCleanly(buf);
      }),
      { numRuns: 1500 },
    );
  });

  it('a valid file with a random u64 written over any header position parses soundly or raises GgufError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: headerEnd - 8 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (pos, v) => {
        const buf = valid.slice();
        new DataView(buf.buffer).setBigUint64(pos, v, true);
        return parsesOrRejectsCleanly(buf);
      }),
      { numRuns: 800 },
    );
  });

  it('a valid file cut at any length parses soundly or raises GgufError', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: valid.length }), (n) => parsesOrRejectsCleanly(valid.subarray(0, n))), { numRuns: 300 });
  });

  it('the unmodified file parses', () => {
    expect(parseGguf(valid).tensors.size).toBe(3);
  });
});
