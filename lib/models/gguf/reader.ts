/**
 * Our GGUF reader: header, metadata, tensor infos and alignment, validated as fully as the safetensors
 * reader, because native code maps these bytes and trusts the offsets. Every count is checked against
 * the bytes left in the file before anything is allocated for it, every string is valid UTF-8, every
 * tensor's dims, type, size, alignment and place in the data section are checked, and the tensors must
 * tile the data section in order, each padded to the alignment, as ggml's own reader requires. Only
 * the header (up to the data section) is read from disk.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { GgufError, fileReadError } from '../errors.js';
import { readFully as readAt, statRegularFile } from '../files.js';
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAX_DIMS,
  GGUF_MAX_TENSOR_NAME,
  GGUF_VALUE_BYTES,
  GGUF_VALUE_TYPES,
  alignUp,
  ggmlTensorBytes,
  ggmlTypeById,
  type GgmlTypeInfo,
  type GgufScalar,
  type GgufScalarTypeName,
  type GgufValue,
  type GgufValueTypeName,
} from './format.js';

export interface GgufTensorInfo {
  name: string;
  type: GgmlTypeInfo;
  /** ggml dims, ne[0] fastest-varying (a [rows, cols] matrix has ne = [cols, rows]). */
  ne: number[];
  /** The same dims in Hugging Face (row-major) order: ne reversed. */
  shape: number[];
  /** Byte offset relative to the data section. */
  offset: number;
  byteLength: number;
}

export interface GgufFile {
  file: string;
  fileSize: number;
  /** 2 or 3. */
  version: number;
  alignment: number;
  /** In file order. */
  metadata: Map<string, GgufValue>;
  /** In file order. */
  tensors: Map<string, GgufTensorInfo>;
  /** Absolute offset of the data section. */
  dataStart: number;
}

/** Thrown (not an Error) when the bytes held end before the file does: read `bytes` and parse again. */
class NeedMore {
  constructor(readonly bytes: number) {}
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Smallest encodings, for checking claimed counts against the bytes left. */
const MIN_KV_BYTES = 8 + 4 + 1; // empty key, type, a one-byte value
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8; // empty name, n_dims = 1, one dim, type, offset

/** Reads little-endian fields from the first `buf.length` bytes of a file of `fileSize` bytes. */
class Cursor {
  pos = 0;
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    readonly fileSize: number,
    readonly file: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(message: string, field?: string): GgufError {
    return new GgufError(this.file, message, field);
  }

  get left(): number {
    return this.fileSize - this.pos;
  }

  /** Makes `n` bytes at the cursor readable, or says why not. */
  private take(n: number, what: string): number {
    if (n > this.left) {
      throw this.fail(`${what} needs ${n} bytes at offset ${this.pos}, but the file ends at ${this.fileSize} (truncated file?)`);
    }
    if (this.pos + n > this.buf.length) throw new NeedMore(this.pos + n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(what: string): number {
    return this.view.getUint8(this.take(1, what));
  }

  u32(what: string): number {
    return this.view.getUint32(this.take(4, what), true);
  }

  u64big(what: string): bigint {
    return this.view.getBigUint64(this.take(8, what), true);
  }

  /** A u64 that counts or locates something: it must fit a JavaScript number exactly. */
  u64(what: string): number {
    const v = this.u64big(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(`${what} is ${v}, too large to be a real count or offset`);
    return Number(v);
  }

  string(what: string): string {
    const n = this.u64(`the length of ${what}`);
    if (n > this.left) {
      throw this.fail(`${what} claims ${n} bytes at offset ${this.pos}, but only ${this.left} bytes are left in the file`);
    }
    const at = this.take(n, what);
    try {
      return utf8.decode(this.buf.subarray(at, at + n));
    } catch {
      throw this.fail(`${what} at offset ${at} is not valid UTF-8`);
    }
  }

  scalar(type: GgufScalarTypeName, what: string): GgufScalar {
    switch (type) {
      case 'u8': return this.view.getUint8(this.take(1, what));
      case 'i8': return this.view.getInt8(this.take(1, what));
      case 'u16': return this.view.getUint16(this.take(2, what), true);
      case 'i16': return this.view.getInt16(this.take(2, what), true);
      case 'u32': return this.view.getUint32(this.take(4, what), true);
      case 'i32': return this.view.getInt32(this.take(4, what), true);
      case 'f32': return this.view.getFloat32(this.take(4, what), true);
      case 'f64': return this.view.getFloat64(this.take(8, what), true);
      case 'u64': return this.view.getBigUint64(this.take(8, what), true);
      case 'i64': return this.view.getBigInt64(this.take(8, what), true);
      case 'string': return this.string(what);
      case 'bool': {
        const b = this.u8(what);
        if (b > 1) throw this.fail(`${what} is a bool stored as ${b}; expected 0 or 1`);
        return b === 1;
      }
    }
  }
}

function valueType(c: Cursor, what: string): GgufValueTypeName {
  const id = c.u32(`the value type of ${what}`);
  const type = GGUF_VALUE_TYPES[id];
  if (type === undefined) {
    throw c.fail(`${what} has value type ${id}; expected 0..${GGUF_VALUE_TYPES.length - 1} (${GGUF_VALUE_TYPES.join(', ')})`);
  }
  return type;
}

function readValue(c: Cursor, key: string): GgufValue {
  const what = `metadata ${JSON.stringify(key)}`;
  const type = valueType(c, what);
  if (type !== 'array') return { type, value: c.scalar(type, what) } as GgufValue;
  const itemType = valueType(c, `the items of ${what}`);
  if (itemType === 'array') throw c.fail(`${what} is an array of arrays, which GGUF readers (ggml's included) do not support`, key);
  const n = c.u64(`the length of ${what}`);
  const minItem = itemType === 'string' ? 8 : GGUF_VALUE_BYTES[itemType];
  if (n * minItem > c.left) {
    throw c.fail(`${what} claims ${n} items of ${itemType}, more than the ${c.left} bytes left in the file can hold`, key);
  }
  const items: GgufScalar[] = new Array(n);
  for (let i = 0; i < n; i++) items[i] = c.scalar(itemType, `${what}[${i}]`);
  return { type: 'array', itemType, value: items };
}

function readAlignment(c: Cursor, metadata: Map<string, GgufValue>): number {
  const v = metadata.get('general.alignment');
  if (v === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (v.type !== 'u32') throw c.fail(`metadata "general.alignment" must be a u32, got ${v.type}`, 'general.alignment');
  const a = v.value;
  if (a === 0 || (a & (a - 1)) !== 0) {
    throw c.fail(`metadata "general.alignment" must be a power of two, got ${a}`, 'general.alignment');
  }
  return a;
}

function readTensorInfo(c: Cursor, index: number): Omit<GgufTensorInfo, 'byteLength'> {
  const name = c.string(`the name of tensor ${index}`);
  const fail = (msg: string) => c.fail(`tensor ${JSON.stringify(name)}: ${msg}`, name);
  if (name.length === 0) throw c.fail(`tensor ${index} has an empty name`);
  const nameBytes = new TextEncoder().encode(name).length;
  if (nameBytes > GGUF_MAX_TENSOR_NAME) throw fail(`name is ${nameBytes} bytes; ggml holds at most ${GGUF_MAX_TENSOR_NAME}`);
  const nDims = c.u32(`the dimension count of tensor ${JSON.stringify(name)}`);
  if (nDims < 1 || nDims > GGUF_MAX_DIMS) throw fail(`has ${nDims} dimensions; expected 1 to ${GGUF_MAX_DIMS}`);
  const ne: number[] = [];
  for (let d = 0; d < nDims; d++) ne.push(c.u64(`dimension ${d} of tensor ${JSON.stringify(name)}`));
  const typeId = c.u32(`the type of tensor ${JSON.stringify(name)}`);
  const type = ggmlTypeById(typeId);
  if (type === undefined) throw fail(`has ggml type ${typeId}, which is not a ggml tensor type`);
  const offset = c.u64(`the offset of tensor ${JSON.stringify(name)}`);
  return { name, type, ne, shape: [...ne].reverse(), offset };
}

/**
 * Sizes every tensor and checks the data section: tensor i starts where tensor i − 1 ended, rounded up
 * to the alignment (ggml's layout, which its reader enforces), and the file holds every byte.
 */
function layTensors(c: Cursor, infos: Omit<GgufTensorInfo, 'byteLength'>[], alignment: number, dataStart: number): GgufTensorInfo[] {
  const out: GgufTensorInfo[] = [];
  let at = 0;
  for (const t of infos) {
    const fail = (msg: string) => c.fail(`tensor ${JSON.stringify(t.name)}: ${msg}`, t.name);
    const bytes = ggmlTensorBytes(t.type, t.ne);
    if (bytes === undefined) {
      if ((t.ne[0] ?? 0) % t.type.blockSize !== 0) {
        throw fail(`dims [${t.ne.join(', ')}] of ${t.type.name}: the first dimension must be a multiple of the ${t.type.blockSize}-element block`);
      }
      throw fail(`dims [${t.ne.join(', ')}] of ${t.type.name} are too large to address`);
    }
    if (t.offset % alignment !== 0) throw fail(`offset ${t.offset} is not a multiple of the alignment ${alignment}`);
    if (t.offset !== at) {
      throw fail(
        `offset ${t.offset} but the previous tensors end at ${at} (padded to the alignment ${alignment}); ` +
          `expected ${at}: GGUF tensors are stored in order, without gaps or overlap`,
      );
    }
    if (dataStart + t.offset + bytes > c.fileSize) {
      throw fail(
        `data [${t.offset}, ${t.offset + bytes}) of the data section (${bytes} bytes of ${t.type.name}, dims [${t.ne.join(', ')}]) ` +
          `reach beyond the file, whose data section has ${Math.max(0, c.fileSize - dataStart)} bytes (truncated file?)`,
      );
    }
    out.push({ ...t, byteLength: bytes });
    at = alignUp(t.offset + bytes, alignment);
  }
  const end = dataStart + at;
  if (c.fileSize > end) {
    throw c.fail(`bytes [${end}, ${c.fileSize}) after the last tensor (and its padding) belong to no tensor`);
  }
  return out;
}

function parse(c: Cursor): GgufFile {
  const magic = c.u32('the magic number');
  if (magic !== GGUF_MAGIC) {
    const got = [0, 8, 16, 24].map((s) => ((magic >>> s) & 0xff).toString(16).padStart(2, '0')).join(' ');
    throw c.fail(`not a GGUF file: expected the magic bytes 47 47 55 46 ("GGUF"), got ${got}`);
  }
  const version = c.u32('the version');
  if (version !== 2 && version !== 3) {
    throw c.fail(`GGUF version ${version} is not supported; thinktree reads versions 2 and 3${version === 1 ? ' (version 1 used 32-bit counts; convert the file again)' : ''}`);
  }
  const tensorCount = c.u64('the tensor count');
  const kvCount = c.u64('the metadata count');
  if (kvCount * MIN_KV_BYTES > c.left) {
    throw c.fail(`claims ${kvCount} metadata entries, more than the ${c.left} bytes left in the file can hold`);
  }
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string(`the key of metadata entry ${i}`);
    if (key.length === 0) throw c.fail(`metadata entry ${i} has an empty key`);
    if (metadata.has(key)) throw c.fail(`metadata ${JSON.stringify(key)} appears twice`, key);
    metadata.set(key, readValue(c, key));
  }
  const alignment = readAlignment(c, metadata);
  if (tensorCount * MIN_TENSOR_INFO_BYTES > c.left) {
    throw c.fail(`claims ${tensorCount} tensors, more than the ${c.left} bytes left in the file can hold`);
  }
  const infos: Omit<GgufTensorInfo, 'byteLength'>[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const t = readTensorInfo(c, i);
    if (names.has(t.name)) throw c.fail(`tensor ${JSON.stringify(t.name)} appears twice`, t.name);
    names.add(t.name);
    infos.push(t);
  }
  const dataStart = alignUp(c.pos, alignment);
  if (dataStart > c.fileSize) {
    throw c.fail(`the data section would start at ${dataStart} (after padding to ${alignment}), past the end of the file at ${c.fileSize} (truncated file?)`);
  }
  const tensors = new Map(layTensors(c, infos, alignment, dataStart).map((t) => [t.name, t]));
  return { file: c.file, fileSize: c.fileSize, version, alignment, metadata, tensors, dataStart };
}

/** Parses a whole GGUF file held in memory (tests, fuzzing, small files). */
export function parseGguf(buf: Uint8Array, file = '<buffer>'): GgufFile {
  return parse(new Cursor(buf, buf.length, file));
}


/** First read; the header is re-parsed with a larger prefix until it fits (a 150k-token vocabulary is a few MB). */
const FIRST_READ_BYTES = 1 << 20;

/** Reads and validates the header of a GGUF file; tensor data is never read. */
export async function readGgufHeader(file: string): Promise<GgufFile> {
  // A FIFO or a device would block or never end: only regular files are opened.
  await statRegularFile(file, 'read the GGUF file');
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw fileReadError(file, 'open the GGUF file', err);
  }
  try {
    let fileSize: number;
    try {
      fileSize = (await fh.stat()).size;
    } catch (err) {
      throw fileReadError(file, 'stat the GGUF file', err);
    }
    let want = Math.min(fileSize, FIRST_READ_BYTES);
    for (;;) {
      const buf = new Uint8Array(want);
      const got = await readAt(fh, buf, 0).catch((err) => {
        throw fileReadError(file, 'read the GGUF header', err);
      });
      if (got < want) throw new GgufError(file, `read ${got} of the first ${want} bytes (file changed while reading?)`);
      try {
        return parse(new Cursor(buf, fileSize, file));
      } catch (err) {
        if (!(err instanceof NeedMore)) throw err;
        want = Math.min(fileSize, Math.max(err.bytes, want * 2));
      }
    }
  } finally {
    await fh.close();
  }
}

/** Reads one tensor's raw bytes (small tensors: norms, rope factors, tests). */
export async function readGgufTensorBytes(gguf: GgufFile, name: string, maxBytes = 64 * 1024 * 1024): Promise<Uint8Array> {
  const t = gguf.tensors.get(name);
  if (t === undefined) throw new GgufError(gguf.file, `no tensor named ${JSON.stringify(name)}`, name);
  if (t.byteLength > maxBytes) throw new GgufError(gguf.file, `tensor ${JSON.stringify(name)} has ${t.byteLength} bytes, above the limit of ${maxBytes}`, name);
  const out = new Uint8Array(t.byteLength);
  let fh: FileHandle;
  try {
    fh = await open(gguf.file, 'r');
  } catch (err) {
    throw fileReadError(gguf.file, 'open the GGUF file', err);
  }
  try {
    const got = await readAt(fh, out, gguf.dataStart + t.offset);
    if (got < t.byteLength) throw new GgufError(gguf.file, `tensor ${JSON.stringify(name)}: read ${got} of ${t.byteLength} bytes (file truncated?)`, name);
  } catch (err) {
    if (err instanceof GgufError) throw err;
    throw fileReadError(gguf.file, `read tensor ${JSON.stringify(name)}`, err);
  } finally {
    await fh.close();
  }
  return out;
}
