/**
 * Our GGUF writer (version 3): metadata in the given order, tensor infos, then each tensor's bytes
 * at the next multiple of the alignment, as ggml's `docs/gguf.md` lays a file out. Shapes are given
 * in Hugging Face (row-major) order and written as ggml dims (reversed).
 */
import { open } from 'node:fs/promises';
import os from 'node:os';
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAX_DIMS,
  GGUF_MAX_TENSOR_NAME,
  GGUF_VALUE_BYTES,
  GGUF_VALUE_TYPES,
  GGUF_VERSION,
  alignUp,
  ggmlTensorBytes,
  ggmlTypeByName,
  type GgufScalar,
  type GgufScalarTypeName,
  type GgufValue,
} from './format.js';

export interface GgufTensorInput {
  name: string;
  /** ggml type name: 'F32', 'F16', 'BF16', 'Q8_0', ... */
  type: string;
  /** Hugging Face order (rows first); written as ggml dims, reversed. */
  shape: readonly number[];
  /** The tensor's bytes, little-endian; or `read` to produce them only when the tensor is written. */
  data?: ArrayBufferView;
  read?: () => Promise<ArrayBufferView> | ArrayBufferView;
}

export interface GgufWriteOptions {
  /** Data alignment; written as `general.alignment` when not 32. @default 32 */
  alignment?: number;
}

const utf8 = new TextEncoder();

/** A growable little-endian byte buffer for the header. */
class Bytes {
  private buf = new Uint8Array(1 << 12);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void { this.reserve(1); this.view.setUint8(this.length, v); this.length += 1; }
  u32(v: number): void { this.reserve(4); this.view.setUint32(this.length, v, true); this.length += 4; }
  u64(v: number | bigint): void { this.reserve(8); this.view.setBigUint64(this.length, BigInt(v), true); this.length += 8; }

  string(s: string): void {
    const b = utf8.encode(s);
    this.u64(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  scalar(type: GgufScalarTypeName, v: GgufScalar, what: string): void {
    const bad = () => new TypeError(`GGUF writer: ${what} must be a ${type}, got ${typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)}`);
    if (type === 'string') {
      if (typeof v !== 'string') throw bad();
      this.string(v);
      return;
    }
    if (type === 'bool') {
      if (typeof v !== 'boolean') throw bad();
      this.u8(v ? 1 : 0);
      return;
    }
    const n = GGUF_VALUE_BYTES[type];
    this.reserve(n);
    const at = this.length;
    const d = this.view;
    if (type === 'u64' || type === 'i64') {
      if (typeof v !== 'bigint') throw bad();
      if (type === 'u64' ? v < 0n || v >= 1n << 64n : v < -(1n << 63n) || v >= 1n << 63n) throw bad();
      if (type === 'u64') d.setBigUint64(at, v, true); else d.setBigInt64(at, v, true);
    } else {
      if (typeof v !== 'number') throw bad();
      const range: Record<string, [number, number]> = {
        u8: [0, 0xff], i8: [-0x80, 0x7f], u16: [0, 0xffff], i16: [-0x8000, 0x7fff], u32: [0, 0xffffffff], i32: [-0x80000000, 0x7fffffff],
      };
      const r = range[type];
      if (r !== undefined && (!Number.isInteger(v) || v < r[0] || v > r[1])) throw bad();
      switch (type) {
        case 'u8': d.setUint8(at, v); break;
        case 'i8': d.setInt8(at, v); break;
        case 'u16': d.setUint16(at, v, true); break;
        case 'i16': d.setInt16(at, v, true); break;
        case 'u32': d.setUint32(at, v, true); break;
        case 'i32': d.setInt32(at, v, true); break;
        case 'f32': d.setFloat32(at, v, true); break;
        case 'f64': d.setFloat64(at, v, true); break;
      }
    }
    this.length += n;
  }

  value(key: string, v: GgufValue): void {
    const what = `metadata ${JSON.stringify(key)}`;
    const typeId = (t: string) => (GGUF_VALUE_TYPES as readonly string[]).indexOf(t);
    if (typeId(v.type) < 0) throw new TypeError(`GGUF writer: ${what} has unknown type ${String(v.type)}`);
    this.u32(typeId(v.type));
    if (v.type !== 'array') {
      this.scalar(v.type, v.value, what);
      return;
    }
    if (typeId(v.itemType) < 0 || v.itemType === ('array' as string)) {
      throw new TypeError(`GGUF writer: ${what} has item type ${String(v.itemType)}; expected a scalar type`);
    }
    this.u32(typeId(v.itemType));
    this.u64(v.value.length);
    for (let i = 0; i < v.value.length; i++) this.scalar(v.itemType, v.value[i]!, `${what}[${i}]`);
  }

  pad(align: number): void {
    const n = alignUp(this.length, align) - this.length;
    this.reserve(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

interface Planned {
  input: GgufTensorInput;
  offset: number;
  byteLength: number;
}

/** The header bytes (padded to the alignment) and where each tensor's data goes. */
function plan(
  metadata: Iterable<[string, GgufValue]>,
  tensors: readonly GgufTensorInput[],
  options: GgufWriteOptions,
): { header: Uint8Array; planned: Planned[]; alignment: number; dataBytes: number } {
  if (os.endianness() === 'BE') throw new Error('GGUF writer: writing on a big-endian host is not supported');
  const meta = new Map<string, GgufValue>();
  for (const [k, v] of metadata) {
    if (k.length === 0) throw new TypeError('GGUF writer: a metadata key is empty');
    if (meta.has(k)) throw new TypeError(`GGUF writer: metadata ${JSON.stringify(k)} given twice`);
    meta.set(k, v);
  }
  let alignment = options.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  const given = meta.get('general.alignment');
  if (given !== undefined) {
    if (given.type !== 'u32') throw new TypeError(`GGUF writer: metadata "general.alignment" must be a u32, got ${given.type}`);
    if (options.alignment !== undefined && options.alignment !== given.value) {
      throw new TypeError(`GGUF writer: options.alignment ${options.alignment} disagrees with metadata "general.alignment" ${given.value}`);
    }
    alignment = given.value;
  } else if (alignment !== GGUF_DEFAULT_ALIGNMENT) {
    meta.set('general.alignment', { type: 'u32', value: alignment });
  }
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new TypeError(`GGUF writer: the alignment must be a power of two, got ${alignment}`);
  }
  const b = new Bytes();
  b.u32(GGUF_MAGIC);
  b.u32(GGUF_VERSION);
  b.u64(tensors.length);
  b.u64(meta.size);
  for (const [k, v] of meta) {
    b.string(k);
    b.value(k, v);
  }
  const names = new Set<string>();
  const planned: Planned[] = [];
  let at = 0;
  for (const t of tensors) {
    const what = `GGUF writer: tensor ${JSON.stringify(t.name)}`;
    if (t.name.length === 0 || utf8.encode(t.name).length > GGUF_MAX_TENSOR_NAME) {
      throw new TypeError(`${what}: a name must have 1 to ${GGUF_MAX_TENSOR_NAME} bytes`);
    }
    if (names.has(t.name)) throw new TypeError(`${what} given twice`);
    names.add(t.name);
    const type = ggmlTypeByName(t.type);
    if (type === undefined) throw new TypeError(`${what}: unknown ggml type ${JSON.stringify(t.type)}`);
    if (t.shape.length < 1 || t.shape.length > GGUF_MAX_DIMS || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new TypeError(`${what}: shape [${t.shape.join(', ')}] must have 1 to ${GGUF_MAX_DIMS} non-negative integer dims`);
    }
    const ne = [...t.shape].reverse();
    const bytes = ggmlTensorBytes(type, ne);
    if (bytes === undefined) {
      throw new TypeError(`${what}: shape [${t.shape.join(', ')}] of ${type.name} needs a last dimension that is a multiple of ${type.blockSize}`);
    }
    if ((t.data === undefined) === (t.read === undefined)) throw new TypeError(`${what}: give exactly one of data and read`);
    if (t.data !== undefined && t.data.byteLength !== bytes) {
      throw new TypeError(`${what}: ${t.data.byteLength} data bytes, expected ${bytes} (shape [${t.shape.join(', ')}] of ${type.name})`);
    }
    b.string(t.name);
    b.u32(ne.length);
    for (const d of ne) b.u64(d);
    b.u32(type.id);
    b.u64(at);
    planned.push({ input: t, offset: at, byteLength: bytes });
    at = alignUp(at + bytes, alignment);
  }
  b.pad(alignment);
  return { header: b.bytes(), planned, alignment, dataBytes: at };
}

function asBytes(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

async function dataOf(p: Planned): Promise<Uint8Array> {
  const v = p.input.data ?? (await p.input.read!());
  if (v.byteLength !== p.byteLength) {
    throw new TypeError(`GGUF writer: tensor ${JSON.stringify(p.input.name)}: read() gave ${v.byteLength} bytes, expected ${p.byteLength}`);
  }
  return asBytes(v);
}

type MetadataInput = Iterable<[string, GgufValue]> | Record<string, GgufValue>;

const entries = (m: MetadataInput): Iterable<[string, GgufValue]> =>
  Symbol.iterator in m ? (m as Iterable<[string, GgufValue]>) : Object.entries(m as Record<string, GgufValue>);

/** Encodes a GGUF file in memory (tensors given by `data`). */
export function encodeGguf(metadata: MetadataInput, tensors: readonly GgufTensorInput[], options: GgufWriteOptions = {}): Uint8Array {
  const { header, planned, dataBytes } = plan(entries(metadata), tensors, options);
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header);
  for (const p of planned) {
    if (p.input.data === undefined) throw new TypeError(`GGUF writer: encodeGguf needs data for tensor ${JSON.stringify(p.input.name)}`);
    out.set(asBytes(p.input.data), header.length + p.offset);
  }
  return out;
}

/** Writes a GGUF file, one tensor at a time (a tensor given by `read` is produced only when written). */
export async function writeGguf(path: string, metadata: MetadataInput, tensors: readonly GgufTensorInput[], options: GgufWriteOptions = {}): Promise<void> {
  const { header, planned, dataBytes } = plan(entries(metadata), tensors, options);
  const fh = await open(path, 'w');
  try {
    const put = async (bytes: Uint8Array, position: number) => {
      for (let done = 0; done < bytes.length; ) {
        const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
        done += bytesWritten;
      }
    };
    await put(header, 0);
    for (const p of planned) await put(await dataOf(p), header.length + p.offset);
    // The last tensor's padding: readers (ours, ggml's) expect the data section to end aligned.
    await fh.truncate(header.length + dataBytes);
  } finally {
    await fh.close();
  }
}
