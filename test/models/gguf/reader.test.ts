import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GgufError } from '../../../lib/models/errors.js';
import { parseGguf, readGgufHeader, readGgufTensorBytes } from '../../../lib/models/gguf/reader.js';
import { encodeGguf, writeGguf } from '../../../lib/models/gguf/writer.js';

/** Hand-assembled little-endian bytes, independent of our writer. */
class Raw {
  parts: number[] = [];
  u8(v: number) { this.parts.push(v & 0xff); return this; }
  u32(v: number) { for (let i = 0; i < 4; i++) this.parts.push((v >>> (8 * i)) & 0xff); return this; }
  u64(v: number | bigint) { let b = BigInt(v); for (let i = 0; i < 8; i++) { this.parts.push(Number(b & 0xffn)); b >>= 8n; } return this; }
  str(s: string) { const b = new TextEncoder().encode(s); this.u64(b.length); this.parts.push(...b); return this; }
  f32(v: number) { const b = new Uint8Array(new Float32Array([v]).buffer); this.parts.push(...b); return this; }
  padTo(a: number) { while (this.parts.length % a) this.parts.push(0); return this; }
  bytes() { return Uint8Array.from(this.parts); }
}

/** A v3 file: 2 metadata entries, one F32 [2, 3] tensor (ne = [3, 2]) and one Q8_0 [1, 32] tensor. */
function handMade(): Uint8Array {
  const r = new Raw().u32(0x46554747).u32(3).u64(2).u64(2);
  r.str('general.architecture').u32(8).str('qwen2');
  r.str('tokenizer.ggml.scores').u32(9).u32(6).u64(2).f32(0.5).f32(-1);
  r.str('a').u32(2).u64(3).u64(2).u32(0).u64(0);
  r.str('b').u32(2).u64(32).u64(1).u32(8).u64(32); // 24 bytes of F32 padded to 32
  r.padTo(32);
  for (let i = 0; i < 6; i++) r.f32(i + 1);
  r.padTo(32);
  for (let i = 0; i < 34; i++) r.u8(i);
  r.padTo(32);
  return r.bytes();
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'gguf-reader-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('GGUF reader', () => {
  it('reads a hand-assembled file: metadata, dims reversed into shapes, offsets and sizes', () => {
    const g = parseGguf(handMade());
    expect(g.version).toBe(3);
    expect(g.alignment).toBe(32);
    expect(g.metadata.get('general.architecture')).toEqual({ type: 'string', value: 'qwen2' });
    expect(g.metadata.get('tokenizer.ggml.scores')).toEqual({ type: 'array', itemType: 'f32', value: [0.5, -1] });
    const a = g.tensors.get('a')!;
    expect([a.type.name, a.ne, a.shape, a.offset, a.byteLength]).toEqual(['F32', [3, 2], [2, 3], 0, 24]);
    const b = g.tensors.get('b')!;
    expect([b.type.name, b.shape, b.offset, b.byteLength]).toEqual(['Q8_0', [1, 32], 32, 34]);
    expect(g.dataStart % 32).toBe(0);
  });

  it('reads from disk the same header, and a tensor’s bytes', async () => {
    const file = path.join(dir, 'hand.gguf');
    await writeFile(file, handMade());
    const g = await readGgufHeader(file);
    expect([...g.tensors.keys()]).toEqual(['a', 'b']);
    const bytes = await readGgufTensorBytes(g, 'a');
    expect(Array.from(new Float32Array(bytes.buffer))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads a header larger than the first read (re-reads with a larger prefix)', async () => {
    const tokens = Array.from({ length: 150_000 }, (_, i) => `token-${i}`);
    const file = path.join(dir, 'big-header.gguf');
    await writeGguf(file, [['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: tokens }]], [
      { name: 'w', type: 'F32', shape: [2], data: Float32Array.of(1, 2) },
    ]);
    const g = await readGgufHeader(file);
    const v = g.metadata.get('tokenizer.ggml.tokens')!;
    expect(v.type === 'array' && v.value.length).toBe(150_000);
    expect(v.type === 'array' && v.value[149_999]).toBe('token-149999');
  });

  const reject = (buf: Uint8Array, pattern: RegExp) => {
    expect(() => parseGguf(buf, 'x.gguf')).toThrow(GgufError);
    expect(() => parseGguf(buf, 'x.gguf')).toThrow(pattern);
  };

  it('rejects a wrong magic number, naming the bytes found', () => {
    const b = handMade();
    b[0] = 0x50;
    reject(b, /expected the magic bytes 47 47 55 46 \("GGUF"\), got 50 47 55 46/);
  });

  it('rejects version 1 and unknown versions', () => {
    const b = handMade();
    b[4] = 1;
    reject(b, /GGUF version 1 is not supported.*32-bit counts/);
    b[4] = 9;
    reject(b, /GGUF version 9 is not supported/);
  });

  it('rejects a file truncated anywhere before the end, with a truncated-file error', () => {
    const full = handMade();
    // The last tensor ends 30 bytes before the file does (its padding to 32); missing padding is tolerated, as by ggml.
    for (const n of [3, 10, 30, 60, 100, full.length - 40, full.length - 31]) {
      expect(() => parseGguf(full.subarray(0, n), 'x.gguf')).toThrow(GgufError);
    }
    reject(full.subarray(0, full.length - 31), /reach beyond the file.*truncated/);
    expect(parseGguf(full.subarray(0, full.length - 30)).tensors.get('b')!.byteLength).toBe(34);
  });

  it('rejects counts larger than the file could hold before allocating for them', () => {
    const b = handMade();
    new DataView(b.buffer).setBigUint64(16, 1n << 40n, true);
    reject(b, /claims 1099511627776 metadata entries/);
    const c = handMade();
    new DataView(c.buffer).setBigUint64(8, 1n << 50n, true);
    reject(c, /claims 1125899906842624 tensors/);
  });

  it('rejects an array whose length outruns the file', () => {
    const r = new Raw().u32(0x46554747).u32(3).u64(0).u64(1).str('k').u32(9).u32(4).u64(1e12);
    reject(r.bytes(), /claims 1000000000000 items of u32/);
  });

  it('rejects unknown value types, nested arrays, bad bools and invalid UTF-8', () => {
    const head = () => new Raw().u32(0x46554747).u32(3).u64(0).u64(1);
    reject(head().str('k').u32(13).u8(0).bytes(), /value type 13/);
    reject(head().str('k').u32(9).u32(9).u64(0).bytes(), /array of arrays/);
    reject(head().str('k').u32(7).u8(2).bytes(), /bool stored as 2/);
    const bad = head().u64(2).u8(0xc3).u8(0x28).u32(4).u32(0).bytes();
    reject(bad, /not valid UTF-8/);
  });

  it('rejects duplicate keys and tensor names', () => {
    reject(new Raw().u32(0x46554747).u32(3).u64(0).u64(2).str('k').u32(4).u32(1).str('k').u32(4).u32(2).bytes(), /"k" appears twice/);
    const t = new Raw().u32(0x46554747).u32(3).u64(2).u64(0);
    t.str('w').u32(1).u64(8).u32(0).u64(0).str('w').u32(1).u64(8).u32(0).u64(32).padTo(32);
    reject(t.padTo(32).bytes(), /tensor "w" appears twice/);
  });

  it('rejects bad alignment values', () => {
    const r = new Raw().u32(0x46554747).u32(3).u64(0).u64(1).str('general.alignment').u32(4).u32(24);
    reject(r.bytes(), /power of two, got 24/);
  });

  it('rejects a tensor type that is not a ggml type, too many dims and rows not made of whole blocks', () => {
    const one = (dims: number[], type: number) => {
      const r = new Raw().u32(0x46554747).u32(3).u64(1).u64(0).str('w').u32(dims.length);
      for (const d of dims) r.u64(d);
      return r.u32(type).u64(0).padTo(32).bytes();
    };
    reject(one([4], 4), /ggml type 4, which is not a ggml tensor type/);
    reject(one([1, 1, 1, 1, 1], 0), /5 dimensions; expected 1 to 4/);
    reject(one([33], 8), /multiple of the 32-element block/);
  });

  it('rejects misaligned, overlapping and gapped tensor offsets', () => {
    const two = (off: number) => {
      const r = new Raw().u32(0x46554747).u32(3).u64(2).u64(0);
      r.str('a').u32(1).u64(4).u32(0).u64(0).str('b').u32(1).u64(4).u32(0).u64(off).padTo(32);
      for (let i = 0; i < 64; i++) r.u8(0);
      return r.bytes();
    };
    expect(() => parseGguf(two(32))).not.toThrow();
    reject(two(16), /offset 16 is not a multiple of the alignment 32/);
    reject(two(0), /offset 0 but the previous tensors end at 32/);
    reject(two(64), /offset 64 but the previous tensors end at 32/);
  });

  it('rejects bytes after the last tensor that belong to no tensor', () => {
    const b = handMade();
    const more = new Uint8Array(b.length + 32);
    more.set(b);
    reject(more, /belong to no tensor/);
  });

  it('round-trips every metadata type and tensor through our writer', () => {
    const meta: Parameters<typeof encodeGguf>[0] = [
      ['u8', { type: 'u8', value: 255 }],
      ['i8', { type: 'i8', value: -128 }],
      ['u16', { type: 'u16', value: 65535 }],
      ['i16', { type: 'i16', value: -32768 }],
      ['u32', { type: 'u32', value: 4294967295 }],
      ['i32', { type: 'i32', value: -2147483648 }],
      ['f32', { type: 'f32', value: 0.25 }],
      ['f64', { type: 'f64', value: 1e-300 }],
      ['u64', { type: 'u64', value: 18446744073709551615n }],
      ['i64', { type: 'i64', value: -9223372036854775808n }],
      ['bool', { type: 'bool', value: true }],
      ['s', { type: 'string', value: 'héllo ✓' }],
      ['arr', { type: 'array', itemType: 'string', value: ['a', '', 'ü'] }],
      ['ints', { type: 'array', itemType: 'i32', value: [1, -2, 3] }],
    ];
    const buf = encodeGguf(meta, [
      { name: 'x', type: 'BF16', shape: [2, 3], data: Uint16Array.of(1, 2, 3, 4, 5, 6) },
      { name: 'y', type: 'Q8_0', shape: [2, 32], data: new Uint8Array(68).fill(7) },
    ], { alignment: 64 });
    const g = parseGguf(buf);
    expect(g.alignment).toBe(64);
    for (const [k, v] of meta) expect(g.metadata.get(k)).toEqual(v);
    expect(g.tensors.get('x')).toMatchObject({ ne: [3, 2], shape: [2, 3], offset: 0, byteLength: 12 });
    expect(g.tensors.get('y')).toMatchObject({ ne: [32, 2], offset: 64, byteLength: 68 });
    expect(buf.length).toBe(g.dataStart + 64 + 128);
    expect(Array.from(new Uint16Array(buf.slice(g.dataStart, g.dataStart + 12).buffer))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('the writer refuses values outside their type and data of the wrong size', () => {
    expect(() => encodeGguf([['k', { type: 'u8', value: 256 }]], [])).toThrow(/must be a u8, got 256/);
    expect(() => encodeGguf([], [{ name: 'w', type: 'F32', shape: [3], data: new Float32Array(2) }])).toThrow(/8 data bytes, expected 12/);
    expect(() => encodeGguf([], [{ name: 'w', type: 'Q4_K', shape: [1, 100], data: new Uint8Array(1) }])).toThrow(/multiple of 256/);
  });
});
