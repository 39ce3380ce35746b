/**
 * Output-head tensors for the tiny test models: written to a second safetensors file next to the
 * tiny model's, and added to a copy of its spec (so the model loads from two files, as sharded
 * checkpoints do). Values are k · 2^-10 with |k| <= 255, exact in F32, F16 and BF16.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DTypeName, NativeHeadSpec, NativeModelSpec } from '../../lib/native/addon-types.js';
import { rng, type TinyModel } from './tiny-model.js';

export interface HeadTensor {
  name: string;
  shape: number[];
}

/** Random exact values for `tensors`, keyed by name. */
export function headValues(tensors: HeadTensor[], seed: number): Map<string, Float32Array> {
  const rand = rng(seed);
  const out = new Map<string, Float32Array>();
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    out.set(t.name, Float32Array.from({ length: n }, () => Math.round((rand() * 2 - 1) * 255) / 1024));
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function encode(values: Float32Array, dtype: DTypeName): Buffer {
  if (dtype === 'F32') return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (dtype !== 'BF16') throw new Error('head-tensors: F32 or BF16 only');
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    bits[i] = u32[0] >>> 16; // exact: the values have at most 8 significant bits
  }
  return Buffer.from(bits.buffer);
}

/** Writes `values` as `heads.safetensors` beside the tiny model; returns its spec with the file and `head` added. */
export function withHead(
  tiny: TinyModel,
  head: NativeHeadSpec,
  tensors: HeadTensor[],
  values: Map<string, Float32Array>,
  dtype: DTypeName = 'F32',
): NativeModelSpec {
  const file = path.join(path.dirname(tiny.file), 'heads.safetensors');
  const blobs = tensors.map((t) => encode(values.get(t.name)!, dtype));
  const header: Record<string, unknown> = {};
  let at = 0;
  tensors.forEach((t, i) => {
    header[t.name] = { dtype, shape: t.shape, data_offsets: [at, at + blobs[i].length] };
    at += blobs[i].length;
  });
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.length));
  writeFileSync(file, Buffer.concat([len, headerBytes, ...blobs]));
  let offset = 8 + headerBytes.length;
  const added = tensors.map((t, i) => {
    const spec = { name: t.name, file: tiny.spec.files.length, dtype, shape: t.shape, offset, byteLength: blobs[i].length };
    offset += blobs[i].length;
    return spec;
  });
  return { ...tiny.spec, files: [...tiny.spec.files, file], tensors: [...tiny.spec.tensors, ...added], head };
}
