/**
 * The peers suite: the benchmark's random Qwen2.5-0.5B-shaped model written once as a BF16 GGUF with
 * our writer, then run by thinktree and by llama.cpp (node-llama-cpp, its prebuilt CPU binary, a
 * devDependency) from that same file with the same protocol: a shared prompt, B sequences, greedy
 * decode of 64 tokens each. Reports prompt tokens/s and decode tokens/s (all sequences) of both and
 * thinktree ÷ llama.cpp at B = 1, 4, 16. Skipped with one line when node-llama-cpp is missing.
 *
 * Protocol details that keep it fair: both load the file with the same thread count; llama.cpp gets
 * an f16 KV cache (its default) and thinktree its default precision; the prompt is evaluated once per
 * sequence on llama.cpp (node-llama-cpp has no KV fork) but outside the decode timing, while
 * thinktree forks it; decode time runs from the first generated token's request to the last token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NativeModel, SeqId } from '../../native/addon-types.js';
import { nativeAddon } from '../../native/load.js';
import type { GgufValue } from '../../models/gguf/format.js';
import { writeGguf, type GgufTensorInput } from '../../models/gguf/writer.js';
import { prepareModel } from '../../models/prepare.js';
import { QWEN25_05B, randomBf16, type ModelShape } from './random-model.js';

export interface PeersBenchOptions {
  threads: number;
  log?: (line: string) => void;
  /** @default [1, 4, 16] */
  batches?: number[];
  /** @default 256 */
  promptTokens?: number;
  /** @default 64 */
  newTokens?: number;
  shape?: Partial<ModelShape>;
}

export interface PeerRow {
  batch: number;
  thinktree: number;
  llamaCpp: number;
}

export interface PeersBenchResult {
  /** Prompt tokens/s of one prompt. */
  prompt: { thinktree: number; llamaCpp: number };
  /** Decode tokens/s over all sequences. */
  decode: PeerRow[];
}

/** The random model as a GGUF file (arch qwen2, BF16 matrices, F32 norms and biases, a byte-level vocabulary). */
async function writeRandomGguf(file: string, s: ModelShape): Promise<void> {
  const qDim = s.heads * s.headDim;
  const kvDim = s.kvHeads * s.headDim;
  const state = { x: 0x9e3779b9 };
  const rand = (shape: number[]): GgufTensorInput => ({
    name: '',
    type: shape.length === 1 ? 'F32' : 'BF16',
    shape,
    read: () => {
      const bits = randomBf16(shape.reduce((a, b) => a * b, 1), state);
      if (shape.length > 1) return bits;
      return Float32Array.from(bits, (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]!);
    },
  });
  const ones = (n: number): GgufTensorInput => ({ name: '', type: 'F32', shape: [n], data: new Float32Array(n).fill(1) });
  const tensors: GgufTensorInput[] = [{ ...rand([s.vocab, s.hidden]), name: 'token_embd.weight' }];
  for (let l = 0; l < s.layers; l++) {
    const p = `blk.${l}.`;
    tensors.push(
      { ...ones(s.hidden), name: p + 'attn_norm.weight' },
      { ...rand([qDim, s.hidden]), name: p + 'attn_q.weight' },
      { ...rand([qDim]), name: p + 'attn_q.bias' },
      { ...rand([kvDim, s.hidden]), name: p + 'attn_k.weight' },
      { ...rand([kvDim]), name: p + 'attn_k.bias' },
      { ...rand([kvDim, s.hidden]), name: p + 'attn_v.weight' },
      { ...rand([kvDim]), name: p + 'attn_v.bias' },
      { ...rand([s.hidden, qDim]), name: p + 'attn_output.weight' },
      { ...ones(s.hidden), name: p + 'ffn_norm.weight' },
      { ...rand([s.intermediate, s.hidden]), name: p + 'ffn_gate.weight' },
      { ...rand([s.intermediate, s.hidden]), name: p + 'ffn_up.weight' },
      { ...rand([s.hidden, s.intermediate]), name: p + 'ffn_down.weight' },
    );
  }
  tensors.push({ ...ones(s.hidden), name: 'output_norm.weight' });
  // GPT-2's byte symbols for ids 0..255, one control token, the rest unused rows (as llama.cpp pads).
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const tokens: string[] = [];
  let next = 0x100;
  for (let b = 0; b < 256; b++) tokens.push(String.fromCharCode(printable(b) ? b : next++));
  tokens.push('<|endoftext|>');
  const types: number[] = tokens.map((_, i) => (i === 256 ? 3 : 1));
  for (let i = tokens.length; i < s.vocab; i++) {
    tokens.push(`[PAD${i}]`);
    types.push(5);
  }
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const metadata: Array<[string, GgufValue]> = [
    ['general.architecture', { type: 'string', value: 'qwen2' }],
    ['general.name', { type: 'string', value: 'thinktree-bench-random' }],
    ['general.file_type', u32(32)],
    ['qwen2.context_length', u32(32768)],
    ['qwen2.embedding_length', u32(s.hidden)],
    ['qwen2.block_count', u32(s.layers)],
    ['qwen2.feed_forward_length', u32(s.intermediate)],
    ['qwen2.attention.head_count', u32(s.heads)],
    ['qwen2.attention.head_count_kv', u32(s.kvHeads)],
    ['qwen2.rope.freq_base', { type: 'f32', value: 1_000_000 }],
    ['qwen2.attention.layer_norm_rms_epsilon', { type: 'f32', value: 1e-6 }],
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'qwen2' }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: tokens }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: types }],
    ['tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: [] }],
    ['tokenizer.ggml.eos_token_id', u32(256)],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
  ];
  await writeGguf(file, metadata, tensors);
}

type LlamaCpp = typeof import('node-llama-cpp');

async function importLlamaCpp(): Promise<LlamaCpp | string> {
  process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = 'true';
  try {
    // A variable specifier: node-llama-cpp is a devDependency, absent from installed packages.
    const name = 'node-llama-cpp';
    return (await import(name)) as LlamaCpp;
  } catch (err) {
    return (err as Error).message.split('\n')[0]!;
  }
}

/** Greedy: temperature 0 on every sequence, no stop strings, EOS ignored (random weights). */
async function thinktreeDecode(model: NativeModel, prompt: SeqId, batch: number, newTokens: number): Promise<number> {
  const seqs = model.forkMany(new Int32Array(batch).fill(prompt));
  try {
    const t = performance.now();
    const res = await model.generateStep({
      seqs,
      maxTokens: new Int32Array(batch).fill(newTokens),
      temperature: new Float32Array(batch),
      topK: new Int32Array(batch),
      topP: new Float32Array(batch).fill(1),
      minP: new Float32Array(batch),
      stop: [],
      stopAtEos: false,
    });
    const seconds = (performance.now() - t) / 1e3;
    return res.tokens.length / seconds;
  } finally {
    model.releaseMany(seqs);
  }
}

export async function benchPeers(opts: PeersBenchOptions): Promise<PeersBenchResult | null> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const lib = await importLlamaCpp();
  if (typeof lib === 'string') {
    log(`peers: skipped (node-llama-cpp is not installed: ${lib})`);
    return null;
  }
  const shape = { ...QWEN25_05B, ...opts.shape };
  const batches = opts.batches ?? [1, 4, 16];
  const promptTokens = opts.promptTokens ?? 256;
  const newTokens = opts.newTokens ?? 64;
  const maxBatch = Math.max(...batches);
  const prompt = Array.from({ length: promptTokens }, (_, i) => (i * 7919) % 256);
  const dir = mkdtempSync(path.join(tmpdir(), 'thinktree-peers-'));
  const file = path.join(dir, 'model-bf16.gguf');
  try {
    let t = performance.now();
    await writeRandomGguf(file, shape);
    log(`peers: wrote the random Qwen2.5-0.5B-shaped model as a BF16 GGUF in ${((performance.now() - t) / 1e3).toFixed(1)} s`);

    // thinktree, from the GGUF file.
    const kvBytesPerToken = shape.layers * 2 * shape.kvHeads * shape.headDim * 4;
    const kvCacheBytes = kvBytesPerToken * 16 * (Math.ceil(promptTokens / 16) + maxBatch * (Math.ceil(newTokens / 16) + 2) + 4);
    const { spec } = await prepareModel(file, { threads: opts.threads, kvCacheBytes, pageTokens: 16, precision: defaultCpuPrecision() });
    const model = await nativeAddon().loadModel(spec);
    const ours = { prompt: 0, decode: new Map<number, number>() };
    try {
      const seq = model.createSequence(1);
      model.appendTokens(seq, Int32Array.from(prompt));
      t = performance.now();
      await model.forward(Int32Array.of(seq), 'last');
      ours.prompt = promptTokens / ((performance.now() - t) / 1e3);
      log(`peers: thinktree prompt ${ours.prompt.toFixed(1)} tok/s`);
      for (const b of batches) {
        ours.decode.set(b, await thinktreeDecode(model, seq, b, newTokens));
        log(`peers: thinktree decode B=${b} ${ours.decode.get(b)!.toFixed(1)} tok/s`);
      }
      model.release(seq);
    } finally {
      model.dispose();
    }

    // llama.cpp, from the same file.
    const llama = await lib.getLlama({ gpu: false, build: 'never', skipDownload: true, logLevel: lib.LlamaLogLevel.error, progressLogs: false });
    const theirsModel = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
    const theirs = { prompt: 0, decode: new Map<number, number>() };
    try {
      for (const b of [1, ...batches]) {
        const context = await theirsModel.createContext({
          sequences: b,
          contextSize: b * (promptTokens + newTokens + 16),
          batchSize: Math.max(512, promptTokens),
          threads: { ideal: opts.threads, min: opts.threads },
        });
        try {
          const seqs = Array.from({ length: b }, () => context.getSequence());
          t = performance.now();
          await Promise.all(seqs.map((s) => s.evaluateWithoutGeneratingNewTokens(prompt as never[])));
          if (b === 1 && theirs.prompt === 0) {
            theirs.prompt = promptTokens / ((performance.now() - t) / 1e3);
            log(`peers: llama.cpp prompt ${theirs.prompt.toFixed(1)} tok/s`);
            continue;
          }
          t = performance.now();
          const counts = await Promise.all(
            seqs.map(async (s) => {
              let n = 0;
              for await (const _ of s.evaluate([prompt[promptTokens - 1]! as never], { temperature: 0 })) {
                if (++n === newTokens) break;
              }
              return n;
            }),
          );
          theirs.decode.set(b, counts.reduce((a, c) => a + c, 0) / ((performance.now() - t) / 1e3));
          log(`peers: llama.cpp decode B=${b} ${theirs.decode.get(b)!.toFixed(1)} tok/s`);
        } finally {
          await context.dispose();
        }
      }
    } finally {
      await theirsModel.dispose();
      await llama.dispose();
    }

    const rows = batches.map((b) => ({ batch: b, thinktree: ours.decode.get(b)!, llamaCpp: theirs.decode.get(b)! }));
    log(`peers: the same BF16 GGUF, ${opts.threads} threads, prompt ${promptTokens}, greedy ${newTokens} tokens per sequence (tok/s, all sequences)`);
    log('                 thinktree  llama.cpp  ratio');
    const line = (label: string, a: number, b: number) =>
      log(`${label.padEnd(16)} ${a.toFixed(1).padStart(9)} ${b.toFixed(1).padStart(10)} ${(a / b).toFixed(2).padStart(6)}×`);
    line(`prompt ${promptTokens}`, ours.prompt, theirs.prompt);
    for (const r of rows) line(`decode B=${r.batch}`, r.thinktree, r.llamaCpp);
    return { prompt: { thinktree: ours.prompt, llamaCpp: theirs.prompt }, decode: rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** thinktree's CPU default: bf16 where AVX-512 BF16 exists, f32 otherwise. */
function defaultCpuPrecision(): 'f32' | 'bf16' {
  return nativeAddon().kernels.cpuInfo().avx512bf16 ? 'bf16' : 'f32';
}
