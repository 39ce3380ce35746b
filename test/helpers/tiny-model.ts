/**
 * Writes a tiny random Llama-style checkpoint as one safetensors file and the NativeModelSpec that
 * loads it, for native runtime tests. Weight values are small multiples of 2^-10 (|k| <= 255), so
 * they are exact in F32, F16 and BF16 and a reference can use them without rounding questions.
 *
 * safetensors: 8-byte little-endian header length N, N bytes of JSON
 * `{"name": {"dtype", "shape", "data_offsets": [begin, end]}}` (offsets relative to the byte after the
 * header), then the data.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DTypeName, NativeModelSpec, NativeTensorSpec } from '../../lib/native/addon-types.js';

export interface TinyModelOptions {
  hidden?: number;
  intermediate?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  /** Embedding rows. */
  vocab?: number;
  /** Tokenizer vocabulary (token t is the single byte t); defaults to `vocab`. */
  tokenizerVocab?: number;
  dtype?: DTypeName;
  attentionBias?: boolean;
  tieWordEmbeddings?: boolean;
  /** [layers] sliding window per layer, 0 = full. */
  slidingWindow?: number[];
  ropeTheta?: number;
  pageTokens?: number;
  kvCacheBytes?: number;
  threads?: number;
  eosTokenIds?: number[];
  seed?: number;
  /** Tensors left out of the file and the spec (missing-tensor tests). */
  omit?: string[];
  /** Tensors whose spec offset is pushed past the end of the file (bounds tests). */
  pastEnd?: string[];
  /** Multiplies the lm_head rows at and above this id (padded-vocabulary tests). */
  boostRowsFrom?: number;
}

export interface TinyModel {
  file: string;
  spec: NativeModelSpec;
  /** Exact weight values by Hugging Face name (what the checkpoint holds, as numbers). */
  weights: Map<string, Float32Array>;
  config: Required<Pick<TinyModelOptions, 'hidden' | 'intermediate' | 'layers' | 'heads' | 'kvHeads' | 'headDim' | 'vocab'>> & {
    attentionBias: boolean;
    tieWordEmbeddings: boolean;
    slidingWindow: number[];
    rmsNormEps: number;
    invFreq: Float32Array;
  };
  cleanup(): void;
}

/** mulberry32: a small seeded generator so every test model is reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bf16 bits of a value that bf16 holds exactly (the top half of its f32 bits). */
function bf16Bits(x: number): number {
  f32[0] = x;
  return u32[0] >>> 16;
}

/** f16 bits of a normal or zero value that f16 holds exactly. */
function f16Bits(x: number): number {
  f32[0] = x;
  const u = u32[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  if (exp === 0) return sign;
  const e = exp - 127 + 15;
  if (e <= 0 || e >= 31) throw new Error(`tiny-model: ${x} is outside the f16 normal range`);
  return sign | (e << 10) | ((u & 0x7fffff) >>> 13);
}

function encode(values: Float32Array, dtype: DTypeName): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = dtype === 'BF16' ? bf16Bits(values[i]) : f16Bits(values[i]);
  return new Uint8Array(out.buffer);
}

export function writeTinyModel(opts: TinyModelOptions = {}): TinyModel {
  const hidden = opts.hidden ?? 64;
  const intermediate = opts.intermediate ?? 128;
  const layers = opts.layers ?? 2;
  const heads = opts.heads ?? 4;
  const kvHeads = opts.kvHeads ?? 2;
  const headDim = opts.headDim ?? 16;
  const vocab = opts.vocab ?? 256;
  const tokenizerVocab = opts.tokenizerVocab ?? vocab;
  const dtype = opts.dtype ?? 'F32';
  const attentionBias = opts.attentionBias ?? false;
  const tie = opts.tieWordEmbeddings ?? false;
  const slidingWindow = opts.slidingWindow ?? new Array(layers).fill(0);
  const theta = opts.ropeTheta ?? 10000;
  const rand = rng(opts.seed ?? 1);
  // k · 2^-10 with |k| <= 255: exact in every dtype; `scale` powers of two keep it exact.
  const values = (n: number, scale = 1): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (Math.round((rand() * 2 - 1) * 255) / 1024) * scale;
    return a;
  };
  // Norm weights near 1 in steps of 2^-7, the resolution bf16 has there.
  const norm = (n: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = 1 + Math.round((rand() * 2 - 1) * 24) / 128;
    return a;
  };

  const weights = new Map<string, Float32Array>();
  const shapes = new Map<string, number[]>();
  const add = (name: string, shape: number[], data: Float32Array) => {
    weights.set(name, data);
    shapes.set(name, shape);
  };
  const qDim = heads * headDim;
  const kvDim = kvHeads * headDim;
  add('model.embed_tokens.weight', [vocab, hidden], values(vocab * hidden, 4));
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}.`;
    add(p + 'input_layernorm.weight', [hidden], norm(hidden));
    add(p + 'self_attn.q_proj.weight', [qDim, hidden], values(qDim * hidden));
    add(p + 'self_attn.k_proj.weight', [kvDim, hidden], values(kvDim * hidden));
    add(p + 'self_attn.v_proj.weight', [kvDim, hidden], values(kvDim * hidden));
    if (attentionBias) {
      add(p + 'self_attn.q_proj.bias', [qDim], values(qDim, 0.5));
      add(p + 'self_attn.k_proj.bias', [kvDim], values(kvDim, 0.5));
      add(p + 'self_attn.v_proj.bias', [kvDim], values(kvDim, 0.5));
    }
    add(p + 'self_attn.o_proj.weight', [hidden, qDim], values(hidden * qDim));
    add(p + 'post_attention_layernorm.weight', [hidden], norm(hidden));
    add(p + 'mlp.gate_proj.weight', [intermediate, hidden], values(intermediate * hidden));
    add(p + 'mlp.up_proj.weight', [intermediate, hidden], values(intermediate * hidden));
    add(p + 'mlp.down_proj.weight', [hidden, intermediate], values(hidden * intermediate));
  }
  add('model.norm.weight', [hidden], norm(hidden));
  if (!tie) {
    const head = values(vocab * hidden);
    if (opts.boostRowsFrom !== undefined) for (let i = opts.boostRowsFrom * hidden; i < head.length; i++) head[i] *= 16;
    add('lm_head.weight', [vocab, hidden], head);
  }

  // Layout the file.
  const omit = new Set(opts.omit ?? []);
  const names = [...weights.keys()].filter((n) => !omit.has(n));
  const blobs = names.map((n) => encode(weights.get(n)!, dtype));
  const header: Record<string, unknown> = {};
  let at = 0;
  names.forEach((n, i) => {
    header[n] = { dtype, shape: shapes.get(n), data_offsets: [at, at + blobs[i].length] };
    at += blobs[i].length;
  });
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = Buffer.from(json, 'utf8');
  const lenBytes = Buffer.alloc(8);
  lenBytes.writeBigUInt64LE(BigInt(headerBytes.length));
  const dir = mkdtempSync(path.join(tmpdir(), 'thinktree-tiny-'));
  const file = path.join(dir, 'model.safetensors');
  writeFileSync(file, Buffer.concat([lenBytes, headerBytes, ...blobs.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))]));

  const dataStart = 8 + headerBytes.length;
  const pastEnd = new Set(opts.pastEnd ?? []);
  const tensors: NativeTensorSpec[] = names.map((n, i) => {
    const [begin] = (header[n] as { data_offsets: number[] }).data_offsets;
    return {
      name: n,
      file: 0,
      dtype,
      shape: shapes.get(n)!,
      offset: dataStart + begin + (pastEnd.has(n) ? at : 0),
      byteLength: blobs[i].length,
    };
  });

  const invFreq = new Float32Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) invFreq[i] = 1 / Math.pow(theta, (2 * i) / headDim);
  const tokenOffsets = new Uint32Array(tokenizerVocab + 1);
  for (let t = 0; t <= tokenizerVocab; t++) tokenOffsets[t] = t;
  const tokenBytes = new Uint8Array(tokenizerVocab);
  for (let t = 0; t < tokenizerVocab; t++) tokenBytes[t] = t & 0xff;
  const pageTokens = opts.pageTokens ?? 4;
  const spec: NativeModelSpec = {
    files: [file],
    tensors,
    hiddenSize: hidden,
    intermediateSize: intermediate,
    numLayers: layers,
    numHeads: heads,
    numKvHeads: kvHeads,
    headDim,
    vocabSize: vocab,
    rmsNormEps: 1e-5,
    ropeInvFreq: invFreq,
    ropeAttentionScaling: 1,
    slidingWindow: Int32Array.from(slidingWindow),
    attentionBias,
    tieWordEmbeddings: tie,
    kvCacheBytes: opts.kvCacheBytes ?? 256 * layers * 2 * pageTokens * kvDim * 4,
    pageTokens,
    threads: opts.threads ?? 2,
    precision: 'f32',
    tokenBytes,
    tokenOffsets,
    eosTokenIds: Int32Array.from(opts.eosTokenIds ?? []),
  };
  return {
    file,
    spec,
    weights,
    config: { hidden, intermediate, layers, heads, kvHeads, headDim, vocab, attentionBias, tieWordEmbeddings: tie, slidingWindow, rmsNormEps: 1e-5, invFreq },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Bytes one KV page takes for this model (layers × K,V × pageTokens × kvHeads × headDim × 4). */
export function bytesPerPage(m: TinyModel): number {
  return m.config.layers * 2 * m.spec.pageTokens * m.config.kvHeads * m.config.headDim * 4;
}
