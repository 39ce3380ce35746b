/**
 * Our safetensors reader and writer (no maintained npm reader exists).
 *
 * File layout: [u64 little-endian N][N bytes of UTF-8 JSON header][data section]. The header maps each
 * tensor name to `{dtype, shape, data_offsets: [begin, end)}` with offsets relative to the start of the
 * data section (byte 8 + N), plus an optional `__metadata__` object of string → string.
 *
 * The reader validates everything the format promises (the checks of the reference Rust crate and
 * more), because native code will map these bytes and trust the offsets: a header that lies must
 * fail here with a sentence, not later with a segfault. Only the header is read from disk.
 */
import { readFully as readExactly, statRegularFile } from './files.js';
import { open, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import { SafetensorsError, fileReadError } from './errors.js';

export const SAFETENSORS_DTYPES = [
  'BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64',
] as const;
export type SafetensorsDType = (typeof SAFETENSORS_DTYPES)[number];

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

/** The reference implementation's cap; a larger header is a corrupt length field, not a real model. */
export const MAX_HEADER_BYTES = 100_000_000;

const ENTRY_KEYS = ['dtype', 'shape', 'data_offsets'] as const;

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** [begin, end) relative to the data section. */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  file: string;
  fileSize: number;
  /** N: bytes of JSON (padding included) after the 8-byte length. */
  headerLength: number;
  /** Absolute offset of the data section: 8 + N. */
  dataStart: number;
  /** In header order. */
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string> | null;
}

function isDType(v: unknown): v is SafetensorsDType {
  return typeof v === 'string' && (SAFETENSORS_DTYPES as readonly string[]).includes(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Elements of a shape, or undefined when the count leaves the safe-integer range. */
export function elementCount(shape: readonly number[]): number | undefined {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) return undefined;
  }
  return n;
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/** Validates the 8-byte length field against the file size. */
function checkHeaderLength(n: bigint, fileSize: number, file: string): number {
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(file, `header length field is ${n} bytes, above the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (n > BigInt(fileSize - 8)) {
    throw new SafetensorsError(
      file,
      `header length field is ${n} bytes but the file has only ${fileSize - 8} bytes after the length field (truncated file?)`,
    );
  }
  return Number(n);
}

function parseEntry(file: string, name: string, raw: unknown, dataSize: number): TensorEntry {
  const fail = (msg: string) => new SafetensorsError(file, `tensor ${JSON.stringify(name)}: ${msg}`, name);
  if (!isPlainObject(raw)) throw fail(`expected an object {dtype, shape, data_offsets}, got ${show(raw)}`);
  for (const key of ENTRY_KEYS) {
    if (!Object.hasOwn(raw, key)) throw fail(`missing field "${key}"`);
  }
  for (const key of Object.keys(raw)) {
    if (!(ENTRY_KEYS as readonly string[]).includes(key)) {
      throw fail(`unexpected field ${JSON.stringify(key)}; expected exactly dtype, shape, data_offsets`);
    }
  }
  const { dtype, shape, data_offsets: offsets } = raw;
  if (!isDType(dtype)) {
    throw fail(`unknown dtype ${show(dtype)}; expected one of ${SAFETENSORS_DTYPES.join(' ')}`);
  }
  if (!Array.isArray(shape)) throw fail(`shape must be an array of non-negative integers, got ${show(shape)}`);
  for (let i = 0; i < shape.length; i++) {
    if (!isCount(shape[i])) {
      throw fail(`shape[${i}] must be a non-negative integer, got ${show(shape[i])} (shape ${show(shape)})`);
    }
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !isCount(offsets[0]) || !isCount(offsets[1])) {
    throw fail(`data_offsets must be [begin, end] with non-negative integers, got ${show(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw fail(`data_offsets [${begin}, ${end}] end before they begin`);
  const count = elementCount(shape as number[]);
  const bytes = count === undefined ? undefined : count * DTYPE_BYTES[dtype];
  if (bytes === undefined || !Number.isSafeInteger(bytes)) {
    throw fail(`shape ${show(shape)} of ${dtype} is too large to address`);
  }
  if (end - begin !== bytes) {
    throw fail(
      `data_offsets [${begin}, ${end}] span ${end - begin} bytes, expected ${bytes} ` +
        `(shape ${show(shape)} × ${DTYPE_BYTES[dtype]} bytes of ${dtype})`,
    );
  }
  if (end > dataSize) {
    throw fail(`data_offsets [${begin}, ${end}] reach beyond the data section, which has ${dataSize} bytes`);
  }
  // `+ 0` turns a JSON "-0" into 0, so callers never see a negative zero.
  return { name, dtype, shape: (shape as number[]).map((d) => d + 0), dataOffsets: [begin + 0, end + 0] };
}

/**
 * The data section must be exactly tiled by the tensors: no overlap, no hole, nothing after the last
 * tensor. The safetensors spec requires a fully indexed buffer so a file cannot smuggle unindexed bytes.
 */
function checkTiling(file: string, tensors: TensorEntry[], dataSize: number): void {
  const sorted = [...tensors].sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let at = 0;
  let prev: TensorEntry | undefined;
  for (const t of sorted) {
    const [begin, end] = t.dataOffsets;
    if (begin < at) {
      throw new SafetensorsError(
        file,
        `tensor ${JSON.stringify(t.name)} data_offsets [${begin}, ${end}] overlap tensor ` +
          `${JSON.stringify(prev!.name)} [${prev!.dataOffsets[0]}, ${prev!.dataOffsets[1]}]`,
        t.name,
      );
    }
    if (begin > at) {
      throw new SafetensorsError(
        file,
        `data bytes [${at}, ${begin}) before tensor ${JSON.stringify(t.name)} belong to no tensor; ` +
          `the safetensors spec requires the data section to be fully indexed (a hole in the data)`,
        t.name,
      );
    }
    at = end;
    prev = t;
  }
  if (at !== dataSize) {
    throw new SafetensorsError(
      file,
      `the data section has ${dataSize} bytes but its tensors cover ${at}; bytes [${at}, ${dataSize}) belong to ` +
        `no tensor and the safetensors spec requires the data section to be fully indexed`,
    );
  }
}

/** Parses and validates the N header bytes of a file of `fileSize` bytes. */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  const headerLength = headerBytes.length;
  const dataSize = fileSize - 8 - headerLength;
  if (dataSize < 0) {
    throw new SafetensorsError(file, `header of ${headerLength} bytes does not fit in a file of ${fileSize} bytes`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError(file, `header is not valid UTF-8`);
  }
  let json: unknown;
  try {
    // JSON whitespace covers the trailing-space padding writers use to align the data section.
    json = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(file, `header is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(json)) {
    throw new SafetensorsError(file, `header must be a JSON object, got ${Array.isArray(json) ? 'an array' : show(json)}`);
  }
  let metadata: Record<string, string> | null = null;
  const tensors = new Map<string, TensorEntry>();
  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isPlainObject(raw)) {
        throw new SafetensorsError(file, `__metadata__ must be an object of strings, got ${show(raw)}`);
      }
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') {
          throw new SafetensorsError(file, `__metadata__[${JSON.stringify(k)}] must be a string, got ${show(v)}`);
        }
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    tensors.set(name, parseEntry(file, name, raw, dataSize));
  }
  checkTiling(file, [...tensors.values()], dataSize);
  return { file, fileSize, headerLength, dataStart: 8 + headerLength, tensors, metadata };
}

/** Parses a whole safetensors file held in memory (tests, fuzzing, small embedded files). */
export function parseSafetensors(buf: Uint8Array, file = '<buffer>'): SafetensorsHeader {
  if (buf.length < 8) {
    throw new SafetensorsError(file, `file has ${buf.length} bytes, fewer than the 8-byte header length field (truncated file)`);
  }
  const n = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  const len = checkHeaderLength(n, buf.length, file);
  return parseSafetensorsHeader(buf.subarray(8, 8 + len), buf.length, file);
}


async function openForRead(file: string): Promise<FileHandle> {
  await statRegularFile(file, 'open the safetensors file');
  try {
    return await open(file, 'r');
  } catch (err) {
    throw fileReadError(file, 'open the safetensors file', err);
  }
}

/** Reads and validates the header of a safetensors file; the data section is never read. */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const fh = await openForRead(file);
  try {
    let fileSize: number;
    try {
      fileSize = (await fh.stat()).size;
    } catch (err) {
      throw fileReadError(file, 'stat the safetensors file', err);
    }
    const lenBytes = new Uint8Array(8);
    const got = await readExactly(fh, lenBytes, 0).catch((err) => {
      throw fileReadError(file, 'read the safetensors header', err);
    });
    if (got < 8) {
      throw new SafetensorsError(file, `file has ${fileSize} bytes, fewer than the 8-byte header length field (truncated file)`);
    }
    const n = new DataView(lenBytes.buffer).getBigUint64(0, true);
    const len = checkHeaderLength(n, fileSize, file);
    const header = new Uint8Array(len);
    const gotHeader = await readExactly(fh, header, 8).catch((err) => {
      throw fileReadError(file, 'read the safetensors header', err);
    });
    if (gotHeader < len) {
      throw new SafetensorsError(file, `header is ${len} bytes but only ${gotHeader} could be read (file changed while reading?)`);
    }
    return parseSafetensorsHeader(header, fileSize, file);
  } finally {
    await fh.close();
  }
}

export type TensorArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

type TypedArrayCtor = { new (buffer: ArrayBuffer, byteOffset?: number, length?: number): TensorArray; BYTES_PER_ELEMENT: number };

/** F16/BF16 come back as raw Uint16Array bits (the addon's convention); F8 and BOOL as bytes. */
const ARRAY_OF: Record<SafetensorsDType, TypedArrayCtor> = {
  BOOL: Uint8Array, U8: Uint8Array, I8: Int8Array, F8_E5M2: Uint8Array, F8_E4M3: Uint8Array,
  I16: Int16Array, U16: Uint16Array, F16: Uint16Array, BF16: Uint16Array,
  I32: Int32Array, U32: Uint32Array, F32: Float32Array, F64: Float64Array, I64: BigInt64Array, U64: BigUint64Array,
};

export interface TensorData {
  dtype: SafetensorsDType;
  shape: number[];
  data: TensorArray;
}

export interface ReadTensorOptions {
  /** A header already read from this file, to skip re-reading it. */
  header?: SafetensorsHeader;
  /** Refuse tensors larger than this; big weights belong to native memory mapping. @default 64 MiB */
  maxBytes?: number;
}

/** Reads one (small) tensor into a typed array: PRM heads, tests, benchmarks. */
export async function readTensorData(file: string, name: string, options: ReadTensorOptions = {}): Promise<TensorData> {
  const header = options.header ?? (await readSafetensorsHeader(file));
  const entry = header.tensors.get(name);
  if (entry === undefined) {
    throw new SafetensorsError(file, `no tensor named ${JSON.stringify(name)} (the file has ${header.tensors.size} tensors)`, name);
  }
  const [begin, end] = entry.dataOffsets;
  const bytes = end - begin;
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  if (bytes > maxBytes) {
    throw new SafetensorsError(file, `tensor ${JSON.stringify(name)} has ${bytes} bytes, above readTensorData's limit of ${maxBytes}`, name);
  }
  // A fresh ArrayBuffer is aligned for any element type, unlike a view into a pooled Buffer.
  const buf = new ArrayBuffer(bytes);
  const fh = await openForRead(file);
  try {
    const got = await readExactly(fh, new Uint8Array(buf), header.dataStart + begin).catch((err) => {
      throw fileReadError(file, `read tensor ${JSON.stringify(name)}`, err);
    });
    if (got < bytes) {
      throw new SafetensorsError(file, `tensor ${JSON.stringify(name)}: read ${got} of ${bytes} bytes (file truncated after its header was read?)`, name);
    }
  } finally {
    await fh.close();
  }
  const Ctor = ARRAY_OF[entry.dtype];
  if (os.endianness() === 'BE') swapBytes(new Uint8Array(buf), Ctor.BYTES_PER_ELEMENT);
  return { dtype: entry.dtype, shape: [...entry.shape], data: new Ctor(buf) };
}

/** Safetensors is little-endian on disk; typed arrays use the host order. */
function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

export interface TensorInput {
  dtype: SafetensorsDType;
  shape: readonly number[];
  /** Exactly product(shape) × dtype bytes, little-endian (typed arrays on little-endian hosts). */
  data: Uint8Array | ArrayBufferView;
}

function asBytes(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Builds the header bytes (padded with spaces so the data section starts 8-byte aligned) and the data layout. */
function layout(
  tensors: Iterable<[string, TensorInput]>,
  metadata: Record<string, string> | undefined,
  file: string,
): { header: Uint8Array; parts: Uint8Array[] } {
  // Typed-array data is written as its in-memory bytes, which are little-endian only on LE hosts.
  if (os.endianness() === 'BE') throw new Error(`${file}: writing safetensors on a big-endian host is not supported`);
  // No prototype: a tensor named "__proto__" must become a key, not a prototype.
  const json = Object.create(null) as Record<string, unknown>;
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`${file}: metadata ${JSON.stringify(k)} must be a string, got ${typeof v}`);
    }
    json.__metadata__ = metadata;
  }
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new TypeError(`${file}: "__metadata__" is reserved and cannot name a tensor`);
    if (Object.hasOwn(json, name)) throw new TypeError(`${file}: tensor ${JSON.stringify(name)} given twice`);
    if (!isDType(t.dtype)) throw new TypeError(`${file}: tensor ${JSON.stringify(name)} has unknown dtype ${show(t.dtype)}`);
    if (!t.shape.every(isCount)) throw new TypeError(`${file}: tensor ${JSON.stringify(name)} has a bad shape ${show(t.shape)}`);
    const bytes = asBytes(t.data);
    const want = (elementCount(t.shape) ?? NaN) * DTYPE_BYTES[t.dtype];
    if (bytes.byteLength !== want) {
      throw new TypeError(
        `${file}: tensor ${JSON.stringify(name)} has ${bytes.byteLength} data bytes, expected ${want} (shape ${show(t.shape)} of ${t.dtype})`,
      );
    }
    json[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [at, at + bytes.byteLength] };
    parts.push(bytes);
    at += bytes.byteLength;
  }
  const text = JSON.stringify(json);
  const raw = new TextEncoder().encode(text);
  const padded = new Uint8Array(Math.ceil((8 + raw.length) / 8) * 8 - 8).fill(0x20);
  padded.set(raw);
  return { header: padded, parts };
}

const entriesOf = (t: Record<string, TensorInput> | Map<string, TensorInput>): Iterable<[string, TensorInput]> =>
  t instanceof Map ? t.entries() : Object.entries(t);

function lengthField(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

/** Encodes tensors (in iteration order) as a safetensors file in memory. */
export function encodeSafetensors(
  tensors: Record<string, TensorInput> | Map<string, TensorInput>,
  metadata?: Record<string, string>,
): Uint8Array {
  const { header, parts } = layout(entriesOf(tensors), metadata, '<buffer>');
  const total = 8 + header.length + parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  out.set(lengthField(header.length), 0);
  out.set(header, 8);
  let at = 8 + header.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Writes tensors (in iteration order) to `path`, streaming each tensor's bytes (no whole-file copy). */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, TensorInput> | Map<string, TensorInput>,
  metadata?: Record<string, string>,
): Promise<void> {
  const { header, parts } = layout(entriesOf(tensors), metadata, path);
  const fh = await open(path, 'w');
  try {
    let position = 0;
    for (const p of [lengthField(header.length), header, ...parts]) {
      // write() may take fewer bytes than asked; loop until each part is down.
      for (let done = 0; done < p.length; ) {
        const { bytesWritten } = await fh.write(p, done, p.length - done, position);
        done += bytesWritten;
        position += bytesWritten;
      }
    }
  } finally {
    await fh.close();
  }
}
