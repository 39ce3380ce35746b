/**
 * Random BF16 checkpoints of a given transformer shape, written tensor by tensor to a safetensors file
 * (never the whole file in memory), and the native spec to load them: the models benchmarks run on.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { NativeHeadSpec, NativeModelSpec, NativeTensorSpec, PrecisionName } from '../../native/addon-types.js';

export interface ModelShape {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  vocab: number;
}

/** Extra tensors after the backbone (a reward head), as [name, shape]. */
export type HeadTensors = ReadonlyArray<readonly [string, number[]]>;

/** Deterministic pseudo-random token ids below 4096 (the benches never decode text). */
export function benchTokens(count: number, salt: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => (Math.imul(i + 1, 2654435761) ^ Math.imul(salt, 40503)) >>> 20);
}

/** The tensors of a Qwen2.5-Math-PRM-style two-way head (`score.0` hidden→hidden, ReLU, `score.2` hidden→2). */
export function prmHeadTensors(hidden: number): HeadTensors {
  return [
    ['score.0.weight', [hidden, hidden]],
    ['score.0.bias', [hidden]],
    ['score.2.weight', [2, hidden]],
    ['score.2.bias', [2]],
  ];
}

export const QWEN25_05B: ModelShape = { hidden: 896, layers: 24, heads: 14, kvHeads: 2, headDim: 64, intermediate: 4864, vocab: 151936 };
/** Qwen2.5-1.5B's config.json: hidden_size 1536, 28 layers, 12 heads of 128, 2 KV heads, intermediate_size 8960. */
export const QWEN25_15B: ModelShape = { hidden: 1536, layers: 28, heads: 12, kvHeads: 2, headDim: 128, intermediate: 8960, vocab: 151936 };

/** The shapes `thinktree bench --shape` accepts, by name, with the model each is taken from. */
export const MODEL_SHAPES = {
  'qwen2.5-0.5b': { model: 'Qwen2.5-0.5B', shape: QWEN25_05B },
  'qwen2.5-1.5b': { model: 'Qwen2.5-1.5B', shape: QWEN25_15B },
} as const satisfies Record<string, { model: string; shape: ModelShape }>;
export type ModelShapeName = keyof typeof MODEL_SHAPES;

/** "Qwen2.5-1.5B shape" for a shape in MODEL_SHAPES, else its dimensions. */
export function describeShape(s: ModelShape): string {
  const dims = Object.keys(QWEN25_05B) as Array<keyof ModelShape>;
  const known = Object.values(MODEL_SHAPES).find((m) => dims.every((d) => m.shape[d] === s[d]));
  return known ? `${known.model} shape` : `${s.layers} layers, hidden ${s.hidden}, intermediate ${s.intermediate}, vocab ${s.vocab}`;
}

/** xorshift32 random BF16 bits: magnitudes in [2^-8, 2^-5) with random sign and mantissa. */
export function randomBf16(n: number, state: { x: number }): Uint16Array {
  const out = new Uint16Array(n);
  let x = state.x;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    // sign | exponent 119..121 | 7 mantissa bits
    out[i] = ((x >>> 31) << 15) | ((119 + ((x >>> 7) % 3)) << 7) | (x & 0x7f);
  }
  state.x = x;
  return out;
}

/** Writes the checkpoint tensor by tensor (never the whole GB in memory) and returns its spec. */
export function writeRandomCheckpoint(file: string, s: ModelShape, head: HeadTensors = []): NativeTensorSpec[] {
  const qDim = s.heads * s.headDim, kvDim = s.kvHeads * s.headDim;
  const list: Array<[string, number[], 'rand' | 'ones']> = [['model.embed_tokens.weight', [s.vocab, s.hidden], 'rand']];
  for (let l = 0; l < s.layers; l++) {
    const p = `model.layers.${l}.`;
    list.push(
      [p + 'input_layernorm.weight', [s.hidden], 'ones'],
      [p + 'self_attn.q_proj.weight', [qDim, s.hidden], 'rand'],
      [p + 'self_attn.q_proj.bias', [qDim], 'rand'],
      [p + 'self_attn.k_proj.weight', [kvDim, s.hidden], 'rand'],
      [p + 'self_attn.k_proj.bias', [kvDim], 'rand'],
      [p + 'self_attn.v_proj.weight', [kvDim, s.hidden], 'rand'],
      [p + 'self_attn.v_proj.bias', [kvDim], 'rand'],
      [p + 'self_attn.o_proj.weight', [s.hidden, qDim], 'rand'],
      [p + 'post_attention_layernorm.weight', [s.hidden], 'ones'],
      [p + 'mlp.gate_proj.weight', [s.intermediate, s.hidden], 'rand'],
      [p + 'mlp.up_proj.weight', [s.intermediate, s.hidden], 'rand'],
      [p + 'mlp.down_proj.weight', [s.hidden, s.intermediate], 'rand'],
    );
  }
  list.push(['model.norm.weight', [s.hidden], 'ones'], ...head.map(([name, shape]): [string, number[], 'rand'] => [name, shape, 'rand']));
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const [name, shape] of list) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    header[name] = { dtype: 'BF16', shape, data_offsets: [at, at + bytes] };
    at += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(file, 'w');
  const tensors: NativeTensorSpec[] = [];
  try {
    writeSync(fd, len);
    writeSync(fd, Buffer.from(json, 'utf8'));
    const state = { x: 0x9e3779b9 };
    const dataStart = 8 + json.length;
    for (const [name, shape, fill] of list) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = fill === 'ones' ? new Uint16Array(n).fill(0x3f80) : randomBf16(n, state);
      writeSync(fd, new Uint8Array(data.buffer));
      const [begin] = (header[name] as { data_offsets: number[] }).data_offsets;
      tensors.push({ name, file: 0, dtype: 'BF16', shape, offset: dataStart + begin, byteLength: n * 2 });
    }
  } finally {
    closeSync(fd);
  }
  return tensors;
}

export function specFor(
  file: string,
  tensors: NativeTensorSpec[],
  s: ModelShape,
  threads: number,
  precision: PrecisionName,
  kvCacheBytes: number,
  head?: NativeHeadSpec,
): NativeModelSpec {
  const invFreq = new Float32Array(s.headDim / 2);
  for (let i = 0; i < s.headDim / 2; i++) invFreq[i] = 1 / Math.pow(1_000_000, (2 * i) / s.headDim);
  // A byte-level stand-in vocabulary: the bench never decodes text.
  const tokenOffsets = Uint32Array.from({ length: 257 }, (_, i) => i);
  return {
    files: [file],
    tensors,
    hiddenSize: s.hidden,
    intermediateSize: s.intermediate,
    numLayers: s.layers,
    numHeads: s.heads,
    numKvHeads: s.kvHeads,
    headDim: s.headDim,
    vocabSize: s.vocab,
    rmsNormEps: 1e-6,
    ropeInvFreq: invFreq,
    ropeAttentionScaling: 1,
    slidingWindow: new Int32Array(s.layers),
    attentionBias: true,
    tieWordEmbeddings: true,
    kvCacheBytes,
    pageTokens: 16,
    threads,
    precision,
    tokenBytes: Uint8Array.from({ length: 256 }, (_, i) => i),
    tokenOffsets,
    eosTokenIds: new Int32Array(0),
    head,
  };
}

