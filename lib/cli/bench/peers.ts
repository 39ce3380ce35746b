/**
 * The peers suite: the benchmark's random Qwen2.5-0.5B-shaped model written as a GGUF with our writer
 * in BF16, Q8_0 and Q4_K (peers-gguf.ts), each file then run by thinktree (peers-thinktree.ts) and by
 * llama.cpp (peers-llama-cpp.ts, node-llama-cpp's prebuilt CPU binary) with the same protocol: a shared
 * prompt, B sequences, greedy decode (peers-protocol.ts). Prints one table per type: prompt tokens/s,
 * decode tokens/s (all sequences) of both engines and thinktree ÷ llama.cpp, at B = 1, 4, 16 for BF16
 * and B = 1, 16 (32 new tokens instead of 64) for the quantized files. Skipped with one line when
 * node-llama-cpp is missing or its binary does not load.
 *
 * Fairness: both load the same file with the same thread count; llama.cpp gets an f16 KV cache (its
 * default) and thinktree its default precision; the prompt is evaluated once per sequence on llama.cpp
 * (no KV fork there) but outside the decode timing, while thinktree forks it. On a loaded host
 * llama.cpp's decode of one B may stop at a time budget short of the protocol's tokens; its row then
 * says how many tokens per sequence the rate is over.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Llama } from 'node-llama-cpp';
import { PEER_WEIGHT_TYPES, writeRandomGguf, type PeerGgufFile, type PeerWeightType } from './peers-gguf.js';
import { importLlamaCpp, llamaCppRates, openLlamaCpp } from './peers-llama-cpp.js';
import type { PeerProtocol } from './peers-protocol.js';
import { thinktreeRates } from './peers-thinktree.js';
import { QWEN25_05B, type ModelShape } from './random-model.js';

export type { PeerWeightType } from './peers-gguf.js';

export interface PeersBenchOptions {
  threads: number;
  log?: (line: string) => void;
  /** The files written and run, in this order. @default ['bf16', 'q8_0', 'q4_k'] */
  types?: readonly PeerWeightType[];
  /** Sequence counts for the BF16 file. @default [1, 4, 16] */
  batches?: number[];
  /** Sequence counts for the quantized files. @default [1, 16] */
  quantizedBatches?: number[];
  /** @default 256 */
  promptTokens?: number;
  /** Tokens each sequence generates on the BF16 file. @default 64 */
  newTokens?: number;
  /**
   * Tokens each sequence generates on the quantized files: fewer than BF16's to keep the suite's time
   * down (llama.cpp at B = 16 dominates it). @default 32
   */
  quantizedNewTokens?: number;
  /** Wall seconds after which llama.cpp's decode of one B stops short of the new tokens (PeerProtocol). @default 60 */
  decodeBudgetSeconds?: number;
  shape?: Partial<ModelShape>;
}

export interface PeerRow {
  batch: number;
  thinktree: number;
  llamaCpp: number;
  /** Tokens each llama.cpp sequence generated: the protocol's unless its time budget stopped it. */
  llamaCppTokens: number;
}

/** One file's figures. */
export interface PeerTypeResult {
  type: PeerWeightType;
  /** Size and matrix types of the file both engines ran. */
  file: PeerGgufFile;
  /** Tokens each sequence was asked to generate. */
  newTokens: number;
  /** Prompt tokens/s of one prompt. */
  prompt: { thinktree: number; llamaCpp: number };
  /** Decode tokens/s over all sequences, one row per B. */
  decode: PeerRow[];
}

export interface PeersBenchResult {
  /** One entry per weight type, in the order run. */
  types: PeerTypeResult[];
}

const TYPE_LABEL: Record<PeerWeightType, string> = { bf16: 'BF16', q8_0: 'Q8_0', q4_k: 'Q4_K' };

function describeFile(f: PeerGgufFile): string {
  const types = Object.entries(f.matrixTypes).map(([t, n]) => `${n} ${t}`).join(', ');
  return `${(f.bytes / 1e9).toFixed(2)} GB, matrices ${types}, norms and biases F32`;
}

function printTable(r: PeerTypeResult, p: PeerProtocol, log: (line: string) => void): void {
  log(`peers: the same ${TYPE_LABEL[r.type]} GGUF (${describeFile(r.file)}), ${p.threads} threads, prompt ${p.prompt.length}, greedy ${p.newTokens} tokens per sequence (tok/s, all sequences)`);
  log(`${TYPE_LABEL[r.type].padEnd(16)} thinktree  llama.cpp  ratio`);
  const line = (label: string, a: number, b: number, note = '') =>
    log(`${label.padEnd(16)} ${a.toFixed(1).padStart(9)} ${b.toFixed(1).padStart(10)} ${(a / b).toFixed(2).padStart(6)}×${note}`);
  line(`prompt ${p.prompt.length}`, r.prompt.thinktree, r.prompt.llamaCpp);
  for (const row of r.decode) {
    const short = row.llamaCppTokens < p.newTokens ? ` (llama.cpp: ${row.llamaCppTokens} tokens per sequence, stopped by the time budget)` : '';
    line(`decode B=${row.batch}`, row.thinktree, row.llamaCpp, short);
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
  const promptTokens = opts.promptTokens ?? 256;
  const prompt = Array.from({ length: promptTokens }, (_, i) => (i * 7919) % 256);
  let llama: Llama;
  try {
    llama = await openLlamaCpp(lib);
  } catch (err) {
    log(`peers: skipped (node-llama-cpp's prebuilt CPU binary does not load: ${(err as Error).message.split('\n')[0]})`);
    return null;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'thinktree-peers-'));
  const results: PeerTypeResult[] = [];
  try {
    for (const type of opts.types ?? PEER_WEIGHT_TYPES) {
      const protocol: PeerProtocol = {
        threads: opts.threads,
        prompt,
        newTokens: type === 'bf16' ? (opts.newTokens ?? 64) : (opts.quantizedNewTokens ?? 32),
        batches: type === 'bf16' ? (opts.batches ?? [1, 4, 16]) : (opts.quantizedBatches ?? [1, 16]),
        measurePrompt: true,
        decodeBudgetSeconds: opts.decodeBudgetSeconds ?? 60,
      };
      // One file at a time on disk (the BF16 one is about 1 GB at the 0.5B shape).
      const file = path.join(dir, `model-${type}.gguf`);
      const t = performance.now();
      const written = await writeRandomGguf(file, shape, type);
      log(`peers: wrote the random model as a ${TYPE_LABEL[type]} GGUF (${describeFile(written)}) in ${((performance.now() - t) / 1e3).toFixed(1)} s`);
      try {
        const ours = await thinktreeRates(file, shape, protocol, log);
        const theirs = await llamaCppRates(llama, file, protocol, log);
        const result: PeerTypeResult = {
          type,
          file: written,
          newTokens: protocol.newTokens,
          prompt: { thinktree: ours.prompt!, llamaCpp: theirs.prompt! },
          decode: protocol.batches.map((b) => ({
            batch: b,
            thinktree: ours.decode.get(b)!,
            llamaCpp: theirs.decode.get(b)!,
            llamaCppTokens: theirs.generated.get(b)!,
          })),
        };
        printTable(result, protocol, log);
        results.push(result);
      } finally {
        rmSync(file, { force: true });
      }
    }
  } finally {
    await llama.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  return { types: results };
}
