/**
 * The peers suite's model file: the benchmark's random Qwen2.5-0.5B-shaped model written as a GGUF
 * (arch qwen2, F32 norms and biases, a byte-level vocabulary) with our writer, its matrices in BF16 or
 * quantized by the addon's quantizer (the one `thinktree convert` uses). Every type draws the same
 * BF16 weights from the same seed, so the Q8_0 and Q4_K files are quantizations of the BF16 one.
 */
import { stat } from 'node:fs/promises';
import type { GgufValue } from '../../models/gguf/format.js';
import { toF32 } from '../../models/gguf/tensor-data.js';
import { writeGguf, type GgufTensorInput } from '../../models/gguf/writer.js';
import { QUANT_BLOCK, quantizeRows, type QuantType } from '../../models/quant/index.js';
import { randomBf16, type ModelShape } from './random-model.js';

/** The weight types the suite compares, as `thinktree convert --to` spells them. */
export type PeerWeightType = 'bf16' | 'q8_0' | 'q4_k';

export const PEER_WEIGHT_TYPES: readonly PeerWeightType[] = ['bf16', 'q8_0', 'q4_k'];

/** What one written file holds: its size and how many matrices took each ggml type. */
export interface PeerGgufFile {
  bytes: number;
  /** ggml type name → number of matrices (the token embedding included) written in it. */
  matrixTypes: Record<string, number>;
}

/** llama.cpp's `general.file_type` (`llama_ftype`): MOSTLY_BF16, MOSTLY_Q8_0, MOSTLY_Q4_K_M (what `thinktree convert` writes for q4_k). */
const FILE_TYPE: Record<PeerWeightType, number> = { bf16: 32, q8_0: 7, q4_k: 15 };

/**
 * The ggml type of a matrix of `cols` columns: the file's type, or for Q4_K a row that is not whole
 * 256-element blocks takes Q4_0, as the exporter and quantize-on-load do (at the 0.5B shape every
 * k = 896 matrix and the embedding; only ffn_down, k = 4864, is Q4_K). A row not even a whole number of
 * 32-element blocks stays BF16.
 */
export function peerMatrixType(type: PeerWeightType, cols: number): 'BF16' | 'Q8_0' | 'Q4_K' | 'Q4_0' {
  if (type === 'bf16') return 'BF16';
  const fits = (t: QuantType) => cols % QUANT_BLOCK[t].elements === 0;
  if (fits(type)) return type === 'q8_0' ? 'Q8_0' : 'Q4_K';
  return type === 'q4_k' && fits('q4_0') ? 'Q4_0' : 'BF16';
}

const bf16ToF32 = (bits: Uint16Array): Float32Array => toF32(new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength), 'BF16');

/** The tensors in file order: each matrix's bytes drawn (and quantized) only when the writer reaches it. */
function modelTensors(s: ModelShape, type: PeerWeightType, counts: Record<string, number>): GgufTensorInput[] {
  const qDim = s.heads * s.headDim;
  const kvDim = s.kvHeads * s.headDim;
  // One generator for the whole file, drawn in file order: the same weights for every type.
  const state = { x: 0x9e3779b9 };
  const vector = (name: string, n: number): GgufTensorInput => ({ name, type: 'F32', shape: [n], read: () => bf16ToF32(randomBf16(n, state)) });
  const matrix = (name: string, rows: number, cols: number): GgufTensorInput => {
    const ggml = peerMatrixType(type, cols);
    counts[ggml] = (counts[ggml] ?? 0) + 1;
    return {
      name,
      type: ggml,
      shape: [rows, cols],
      read: () => {
        const bits = randomBf16(rows * cols, state);
        return ggml === 'BF16' ? bits : quantizeRows(ggml.toLowerCase() as QuantType, bf16ToF32(bits), rows, cols);
      },
    };
  };
  const ones = (name: string, n: number): GgufTensorInput => ({ name, type: 'F32', shape: [n], data: new Float32Array(n).fill(1) });
  // Tied embeddings (as Qwen2.5-0.5B): no output.weight, the LM head reads token_embd in the file's type.
  const tensors = [matrix('token_embd.weight', s.vocab, s.hidden)];
  for (let l = 0; l < s.layers; l++) {
    const p = `blk.${l}.`;
    tensors.push(
      ones(p + 'attn_norm.weight', s.hidden),
      matrix(p + 'attn_q.weight', qDim, s.hidden),
      vector(p + 'attn_q.bias', qDim),
      matrix(p + 'attn_k.weight', kvDim, s.hidden),
      vector(p + 'attn_k.bias', kvDim),
      matrix(p + 'attn_v.weight', kvDim, s.hidden),
      vector(p + 'attn_v.bias', kvDim),
      matrix(p + 'attn_output.weight', s.hidden, qDim),
      ones(p + 'ffn_norm.weight', s.hidden),
      matrix(p + 'ffn_gate.weight', s.intermediate, s.hidden),
      matrix(p + 'ffn_up.weight', s.intermediate, s.hidden),
      matrix(p + 'ffn_down.weight', s.hidden, s.intermediate),
    );
  }
  tensors.push(ones('output_norm.weight', s.hidden));
  return tensors;
}

/** GPT-2's byte symbols for ids 0..255, one control token, the rest unused rows (as llama.cpp pads). */
function vocabularyMetadata(vocab: number): Array<[string, GgufValue]> {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const tokens: string[] = [];
  let next = 0x100;
  for (let b = 0; b < 256; b++) tokens.push(String.fromCharCode(printable(b) ? b : next++));
  tokens.push('<|endoftext|>');
  const types: number[] = tokens.map((_, i) => (i === 256 ? 3 : 1));
  for (let i = tokens.length; i < vocab; i++) {
    tokens.push(`[PAD${i}]`);
    types.push(5);
  }
  return [
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'qwen2' }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: tokens }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: types }],
    ['tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: [] }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: 256 }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
  ];
}

/** Writes the random model of shape `s` to `file` with its matrices in `type`. */
export async function writeRandomGguf(file: string, s: ModelShape, type: PeerWeightType): Promise<PeerGgufFile> {
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const metadata: Array<[string, GgufValue]> = [
    ['general.architecture', { type: 'string', value: 'qwen2' }],
    ['general.name', { type: 'string', value: 'thinktree-bench-random' }],
    ['general.file_type', u32(FILE_TYPE[type])],
    ...(type === 'bf16' ? [] : [['general.quantization_version', u32(2)] as [string, GgufValue]]),
    ['qwen2.context_length', u32(32768)],
    ['qwen2.embedding_length', u32(s.hidden)],
    ['qwen2.block_count', u32(s.layers)],
    ['qwen2.feed_forward_length', u32(s.intermediate)],
    ['qwen2.attention.head_count', u32(s.heads)],
    ['qwen2.attention.head_count_kv', u32(s.kvHeads)],
    ['qwen2.rope.freq_base', { type: 'f32', value: 1_000_000 }],
    ['qwen2.attention.layer_norm_rms_epsilon', { type: 'f32', value: 1e-6 }],
    ...vocabularyMetadata(s.vocab),
  ];
  const matrixTypes: Record<string, number> = {};
  await writeGguf(file, metadata, modelTensors(s, type, matrixTypes));
  return { bytes: (await stat(file)).size, matrixTypes };
}
