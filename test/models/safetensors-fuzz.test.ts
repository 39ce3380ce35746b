import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SafetensorsError } from '../../lib/models/errors.js';
import { encodeSafetensors, parseSafetensors, type SafetensorsHeader } from '../../lib/models/safetensors.js';

const SIZE: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

/**
 * What a successful parse promises, checked from scratch: every tensor's byte span matches its shape
 * and dtype, and the spans tile the data section exactly.
 */
function checkInvariants(buf: Uint8Array, h: SafetensorsHeader): void {
  const dataSize = buf.length - h.dataStart;
  const spans = [...h.tensors.values()].map((t) => {
    const [b, e] = t.dataOffsets;
    expect(e - b).toBe(t.shape.reduce((x, y) => x * y, 1) * SIZE[t.dtype]);
    return [b, e] as const;
  });
  spans.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let at = 0;
  for (const [b, e] of spans) {
    expect(b).toBe(at);
    at = e;
  }
  expect(at).toBe(dataSize);
}

/** Runs the parser; anything thrown must be a SafetensorsError, anything returned must be sound. */
function parsesOrRejectsCleanly(buf: Uint8Array): boolean {
  let h: SafetensorsHeader;
  try {
    h = parseSafetensors(buf, 'fuzz.safetensors');
  } catch (err) {
    if (!(err instanceof SafetensorsError)) throw new Error(`parser threw ${String(err)} (not a SafetensorsError)`);
    return true;
  }
  checkInvariants(buf, h);
  return true;
}

const valid = encodeSafetensors(
  {
    'model.embed_tokens.weight': { dtype: 'F32', shape: [3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    'model.norm.weight': { dtype: 'BF16', shape: [2], data: Uint16Array.from([0x3f80, 0x4000]) },
    ids: { dtype: 'I64', shape: [1], data: BigInt64Array.from([7n]) },
  },
  { format: 'pt' },
);
const headerEnd = 8 + Number(new DataView(valid.buffer, valid.byteOffset).getBigUint64(0, true));

/** A position inside the length field or the JSON header, where mutations are interesting. */
const headerPos = fc.integer({ min: 0, max: headerEnd - 1 });

describe('safetensors parser under fuzzing', () => {
  it('random bytes either parse soundly or raise SafetensorsError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), parsesOrRejectsCleanly), { numRuns: 400 });
  });

  it('random JSON after a correct length field parses soundly or raises SafetensorsError', () => {
    const file = fc.tuple(fc.json({ maxDepth: 3 }), fc.uint8Array({ maxLength: 32 })).map(([json, data]) => {
      const h = new TextEncoder().encode(json);
      const out = new Uint8Array(8 + h.length + data.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
      out.set(h, 8);
      out.set(data, 8 + h.length);
      return out;
    });
    fc.assert(fc.property(file, parsesOrRejectsCleanly), { numRuns: 300 });
  });

  it('a valid file with one byte flipped parses soundly or raises SafetensorsError', () => {
    fc.assert(
      fc.property(headerPos, fc.integer({ min: 1, max: 255 }), (pos, x) => {
        const buf = valid.slice();
        buf[pos] ^= x;
        return parsesOrRejectsCleanly(buf);
      }),
      { numRuns: 300 },
    );
  });

  it('a valid file with bytes inserted or deleted parses soundly or raises SafetensorsError', () => {
    fc.assert(
      fc.property(headerPos, fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 4 }), (pos, insert, bytes) => {
        const buf = insert
          ? Uint8Array.from([...valid.subarray(0, pos), ...bytes, ...valid.subarray(pos)])
          : Uint8Array.from([...valid.subarray(0, pos), ...valid.subarray(pos + bytes.length)]);
        return parsesOrRejectsCleanly(buf);
      }),
      { numRuns: 300 },
    );
  });

  it('a valid header with one number changed parses soundly or raises SafetensorsError', () => {
    const text = new TextDecoder().decode(valid.subarray(8, headerEnd));
    const numbers = [...text.matchAll(/\d+/g)];
    const replacement = fc.oneof(
      fc.integer({ min: -5, max: 40 }).map(String),
      fc.constantFrom('1e3', '-0', '2.5', '9007199254740993', '1e400', 'null', '"7"'),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: numbers.length - 1 }), replacement, (which, repl) => {
        const m = numbers[which];
        const edited = text.slice(0, m.index) + repl + text.slice(m.index! + m[0].length);
        const h = new TextEncoder().encode(edited);
        const data = valid.subarray(headerEnd);
        const buf = new Uint8Array(8 + h.length + data.length);
        new DataView(buf.buffer).setBigUint64(0, BigInt(h.length), true);
        buf.set(h, 8);
        buf.set(data, 8 + h.length);
        return parsesOrRejectsCleanly(buf);
      }),
      { numRuns: 300 },
    );
  });

  it('the unmutated file parses', () => {
    expect(parseSafetensors(valid).tensors.size).toBe(3);
  });
});
