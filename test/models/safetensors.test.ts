import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsError } from '../../lib/models/errors.js';
import {
  encodeSafetensors,
  parseSafetensors,
  readSafetensorsHeader,
  readTensorData,
  writeSafetensors,
} from '../../lib/models/safetensors.js';
import { rawSafetensors, tempDir } from '../helpers/hf-files.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

/** Parses and returns the SafetensorsError message (fails the test if parsing succeeds). */
function errorOf(buf: Uint8Array): SafetensorsError {
  try {
    parseSafetensors(buf, 'bad.safetensors');
  } catch (err) {
    expect(err).toBeInstanceOf(SafetensorsError);
    return err as SafetensorsError;
  }
  throw new Error('expected a SafetensorsError');
}

const header = (obj: unknown) => JSON.stringify(obj);
const zeros = (n: number) => new Uint8Array(n);

describe('safetensors round trip', () => {
  it('reads back the dtypes, shapes, metadata and bytes the writer wrote', async () => {
    const file = path.join(dir, 'round.safetensors');
    const a = Float32Array.from([1.5, -2, 3.25, 0, 7, -8]);
    const b = Int32Array.from([-1, 2, 2147483647]);
    const c = Uint16Array.from([0x3f80, 0xbf80]); // BF16 bits of 1 and -1
    const d = BigInt64Array.from([-5n, 1n << 40n]);
    await writeSafetensors(file, {
      a: { dtype: 'F32', shape: [2, 3], data: a },
      b: { dtype: 'I32', shape: [3], data: b },
      c: { dtype: 'BF16', shape: [1, 2], data: c },
      d: { dtype: 'I64', shape: [2], data: d },
      empty: { dtype: 'F16', shape: [0, 4], data: new Uint16Array(0) },
    }, { format: 'pt', note: 'hi' });
    const h = await readSafetensorsHeader(file);
    expect(h.metadata).toEqual({ format: 'pt', note: 'hi' });
    expect([...h.tensors.keys()]).toEqual(['a', 'b', 'c', 'd', 'empty']);
    expect(h.tensors.get('a')).toMatchObject({ dtype: 'F32', shape: [2, 3], dataOffsets: [0, 24] });
    expect(h.dataStart % 8).toBe(0);
    expect(Array.from((await readTensorData(file, 'a', { header: h })).data as Float32Array)).toEqual(Array.from(a));
    expect(Array.from((await readTensorData(file, 'b')).data as Int32Array)).toEqual(Array.from(b));
    expect(Array.from((await readTensorData(file, 'c')).data as Uint16Array)).toEqual([0x3f80, 0xbf80]);
    expect(Array.from((await readTensorData(file, 'd')).data as BigInt64Array)).toEqual([-5n, 1n << 40n]);
    expect((await readTensorData(file, 'empty')).data.length).toBe(0);
  });

  it('encodes in memory to the same bytes the file writer produces', async () => {
    const file = path.join(dir, 'same.safetensors');
    const tensors = { x: { dtype: 'U8' as const, shape: [3], data: Uint8Array.from([1, 2, 3]) } };
    await writeSafetensors(file, tensors);
    const { readFile } = await import('node:fs/promises');
    expect(new Uint8Array(await readFile(file))).toEqual(encodeSafetensors(tensors));
  });

  it('accepts a header padded with trailing spaces', () => {
    const buf = rawSafetensors(header({ t: { dtype: 'U8', shape: [2], data_offsets: [0, 2] } }) + '      ', Uint8Array.from([9, 8]));
    expect(parseSafetensors(buf).tensors.get('t')?.dataOffsets).toEqual([0, 2]);
  });

  it('rejects a tensor whose data does not match its shape when writing', async () => {
    await expect(
      writeSafetensors(path.join(dir, 'w.safetensors'), { t: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }),
    ).rejects.toThrow(/tensor "t" has 8 data bytes, expected 12/);
  });

  it('refuses to read a tensor larger than maxBytes', async () => {
    const file = path.join(dir, 'big.safetensors');
    await writeSafetensors(file, { t: { dtype: 'F32', shape: [64], data: new Float32Array(64) } });
    await expect(readTensorData(file, 't', { maxBytes: 100 })).rejects.toThrow(/256 bytes, above readTensorData's limit of 100/);
  });
});

describe('safetensors validation', () => {
  it('rejects a file shorter than the 8-byte length field', () => {
    expect(errorOf(Uint8Array.from([1, 0, 0])).message).toMatch(/bad\.safetensors: file has 3 bytes, fewer than the 8-byte header length field/);
  });

  it('rejects a header length that runs past the end of the file', () => {
    const buf = rawSafetensors('{}', zeros(0), 50n);
    expect(errorOf(buf).message).toMatch(/header length field is 50 bytes but the file has only 2 bytes after the length field/);
  });

  it('rejects a header length above 100 MB', () => {
    expect(errorOf(rawSafetensors('{}', zeros(0), 100_000_001n)).message).toMatch(/above the 100000000-byte limit/);
  });

  it('rejects a truncated data section (offsets beyond the end)', () => {
    const buf = rawSafetensors(header({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }), zeros(10));
    expect(errorOf(buf).message).toMatch(/tensor "t": data_offsets \[0, 16\] reach beyond the data section, which has 10 bytes/);
  });

  it('rejects a header that is not JSON', () => {
    expect(errorOf(rawSafetensors('{"t": ')).message).toMatch(/header is not valid JSON/);
  });

  it('rejects a header that is JSON but not an object', () => {
    expect(errorOf(rawSafetensors('[1, 2]')).message).toMatch(/header must be a JSON object, got an array/);
  });

  it('rejects a header that is not valid UTF-8', () => {
    const buf = rawSafetensors('{}  ');
    buf[9] = 0xff;
    expect(errorOf(buf).message).toMatch(/not valid UTF-8/);
  });

  it('rejects overlapping tensors, naming both', () => {
    const buf = rawSafetensors(
      header({
        a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] },
        b: { dtype: 'U8', shape: [4], data_offsets: [2, 6] },
      }),
      zeros(6),
    );
    const e = errorOf(buf);
    expect(e.message).toMatch(/tensor "b" data_offsets \[2, 6\] overlap tensor "a" \[0, 4\]/);
    expect(e.tensor).toBe('b');
  });

  it('rejects a hole between tensors and cites the spec', () => {
    const buf = rawSafetensors(
      header({
        a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] },
        b: { dtype: 'U8', shape: [2], data_offsets: [4, 6] },
      }),
      zeros(6),
    );
    expect(errorOf(buf).message).toMatch(/data bytes \[2, 4\) before tensor "b" belong to no tensor; the safetensors spec requires the data section to be fully indexed/);
  });

  it('rejects bytes after the last tensor', () => {
    const buf = rawSafetensors(header({ a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] } }), zeros(5));
    expect(errorOf(buf).message).toMatch(/data section has 5 bytes but its tensors cover 2; bytes \[2, 5\) belong to no tensor/);
  });

  it('rejects an unknown dtype, naming the tensor and the dtype', () => {
    const buf = rawSafetensors(header({ w: { dtype: 'F7', shape: [1], data_offsets: [0, 1] } }), zeros(1));
    expect(errorOf(buf).message).toMatch(/tensor "w": unknown dtype "F7"; expected one of BOOL U8 I8/);
  });

  it('rejects data_offsets whose length disagrees with shape × dtype size', () => {
    const buf = rawSafetensors(header({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }), zeros(12));
    expect(errorOf(buf).message).toMatch(/tensor "w": data_offsets \[0, 12\] span 12 bytes, expected 16 \(shape \[2,2\] × 4 bytes of F32\)/);
  });

  it('rejects a negative dimension', () => {
    const buf = rawSafetensors(header({ w: { dtype: 'U8', shape: [2, -1], data_offsets: [0, 0] } }));
    expect(errorOf(buf).message).toMatch(/tensor "w": shape\[1\] must be a non-negative integer, got -1/);
  });

  it('rejects a non-integer dimension', () => {
    const buf = rawSafetensors(header({ w: { dtype: 'U8', shape: [1.5], data_offsets: [0, 0] } }));
    expect(errorOf(buf).message).toMatch(/tensor "w": shape\[0\] must be a non-negative integer, got 1.5/);
  });

  it('rejects an entry with an extra field', () => {
    const buf = rawSafetensors(header({ w: { dtype: 'U8', shape: [1], data_offsets: [0, 1], scale: 2 } }), zeros(1));
    expect(errorOf(buf).message).toMatch(/tensor "w": unexpected field "scale"; expected exactly dtype, shape, data_offsets/);
  });

  it('rejects an entry missing data_offsets', () => {
    const buf = rawSafetensors(header({ w: { dtype: 'U8', shape: [1] } }), zeros(1));
    expect(errorOf(buf).message).toMatch(/tensor "w": missing field "data_offsets"/);
  });

  it('rejects offsets that end before they begin', () => {
    const buf = rawSafetensors(header({ w: { dtype: 'U8', shape: [0], data_offsets: [3, 1] } }), zeros(3));
    expect(errorOf(buf).message).toMatch(/data_offsets \[3, 1\] end before they begin/);
  });

  it('rejects non-string metadata values', () => {
    const buf = rawSafetensors(header({ __metadata__: { total: 3 } }));
    expect(errorOf(buf).message).toMatch(/__metadata__\["total"\] must be a string, got 3/);
  });

  it('reports a missing file with its path and the OS error code', async () => {
    const missing = path.join(dir, 'nope.safetensors');
    await expect(readSafetensorsHeader(missing)).rejects.toThrow(`${missing}: cannot open the safetensors file (ENOENT`);
  });

  it('reads only the header from disk, validating against the real file size', async () => {
    const file = path.join(dir, 'short-data.safetensors');
    await writeFile(file, rawSafetensors(header({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }), zeros(8)));
    await expect(readSafetensorsHeader(file)).rejects.toThrow(/reach beyond the data section, which has 8 bytes/);
  });
});
