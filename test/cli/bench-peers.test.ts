// The peers suite on small shapes: the files it writes (types per tensor, the same weights in every
// type) and the suite end to end, both engines on every file (no timing is asserted; speed belongs to
// `thinktree bench`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchPeers } from '../../lib/cli/bench/peers.js';
import { peerMatrixType, writeRandomGguf, type PeerWeightType } from '../../lib/cli/bench/peers-gguf.js';
import type { ModelShape } from '../../lib/cli/bench/random-model.js';
import { readGgufHeader, readGgufTensorBytes } from '../../lib/models/gguf/reader.js';
import { toF32 } from '../../lib/models/gguf/tensor-data.js';
import { dequantizeRows } from '../../lib/models/quant/index.js';
import { loadLlamaCpp } from '../helpers/llama-cpp.js';

const runtime = await loadLlamaCpp();

// hidden 256 takes whole Q4_K blocks; intermediate 288 (9 × 32) does not, so ffn_down falls back to Q4_0.
const SHAPE: ModelShape = { hidden: 256, layers: 1, heads: 4, kvHeads: 2, headDim: 64, intermediate: 288, vocab: 512 };

describe('peers model files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'thinktree-peers-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = async (type: PeerWeightType) => {
    const file = path.join(dir, `${type}.gguf`);
    const written = await writeRandomGguf(file, SHAPE, type);
    return { written, gguf: await readGgufHeader(file) };
  };

  it('picks Q4_0 for a Q4_K row that is not whole 256-blocks, and keeps BF16 below 32', () => {
    expect(peerMatrixType('q4_k', 4864)).toBe('Q4_K'); // 19 × 256
    expect(peerMatrixType('q4_k', 896)).toBe('Q4_0'); // 3.5 × 256, 28 × 32
    expect(peerMatrixType('q8_0', 896)).toBe('Q8_0');
    expect(peerMatrixType('q8_0', 40)).toBe('BF16');
    expect(peerMatrixType('bf16', 896)).toBe('BF16');
  });

  it('writes every matrix in the file type (or its fallback) and every 1-D tensor in F32', async () => {
    const expected: Record<PeerWeightType, Record<string, string>> = {
      bf16: { 'token_embd.weight': 'BF16', 'blk.0.attn_q.weight': 'BF16', 'blk.0.ffn_down.weight': 'BF16' },
      q8_0: { 'token_embd.weight': 'Q8_0', 'blk.0.attn_q.weight': 'Q8_0', 'blk.0.ffn_down.weight': 'Q8_0' },
      q4_k: { 'token_embd.weight': 'Q4_K', 'blk.0.attn_q.weight': 'Q4_K', 'blk.0.ffn_down.weight': 'Q4_0' },
    };
    for (const type of ['bf16', 'q8_0', 'q4_k'] as const) {
      const { written, gguf } = await write(type);
      for (const [name, ggml] of Object.entries(expected[type])) expect(gguf.tensors.get(name)?.type.name, `${type} ${name}`).toBe(ggml);
      for (const t of gguf.tensors.values()) if (t.shape.length === 1) expect(t.type.name, t.name).toBe('F32');
      expect(gguf.tensors.has('output.weight')).toBe(false); // tied: the LM head reads token_embd
      // 7 matrices per layer plus the embedding; the counts the suite prints are the file's.
      const counts: Record<string, number> = {};
      for (const t of gguf.tensors.values()) if (t.shape.length === 2) counts[t.type.name] = (counts[t.type.name] ?? 0) + 1;
      expect(written.matrixTypes).toEqual(counts);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(8);
      expect(written.bytes).toBe(gguf.fileSize);
    }
  });

  it('quantizes the same weights in every type: Q8_0 and Q4_K decode close to the BF16 file', async () => {
    const { gguf: bf16 } = await write('bf16');
    const name = 'blk.0.ffn_gate.weight';
    const [rows, cols] = [SHAPE.intermediate, SHAPE.hidden];
    const reference = toF32(await readGgufTensorBytes(bf16, name), 'BF16');
    // Weights lie in ±2^-5: a Q8_0 block's step is at most 2^-5 / 127, a Q4_K one's about 2^-4 / 15.
    for (const [type, bound] of [['q8_0', 2 ** -5 / 127], ['q4_k', 2 ** -4 / 15]] as const) {
      const { gguf } = await write(type);
      const got = dequantizeRows(type, await readGgufTensorBytes(gguf, name), rows, cols);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - reference[i]!));
      expect(worst, type).toBeLessThan(bound);
      expect(worst, type).toBeGreaterThan(0); // quantized, not copied
    }
  });
});

describe.skipIf(typeof runtime === 'string')('thinktree bench --only peers', () => {
  it('runs thinktree and llama.cpp on the same BF16, Q8_0 and Q4_K files and reports both at every batch size', async () => {
    const lines: string[] = [];
    const res = await benchPeers({
      threads: 1,
      log: (l) => void lines.push(l),
      batches: [1, 3],
      quantizedBatches: [1, 2],
      promptTokens: 12,
      newTokens: 4,
      quantizedNewTokens: 3,
      shape: SHAPE,
    });
    expect(res).not.toBeNull();
    expect(res!.types.map((t) => t.type)).toEqual(['bf16', 'q8_0', 'q4_k']);
    for (const t of res!.types) {
      expect(t.decode.map((r) => r.batch)).toEqual(t.type === 'bf16' ? [1, 3] : [1, 2]);
      for (const v of [t.prompt.thinktree, t.prompt.llamaCpp, ...t.decode.flatMap((r) => [r.thinktree, r.llamaCpp])]) {
        expect(Number.isFinite(v) && v > 0, `${t.type}: ${v}`).toBe(true);
      }
    }
    expect(res!.types.map((t) => t.newTokens)).toEqual([4, 3, 3]);
    expect(res!.types.map((t) => t.decode.map((r) => r.llamaCppTokens))).toEqual([[4, 4], [3, 3], [3, 3]]);
    expect(res!.types[2]!.file.matrixTypes).toEqual({ Q4_K: 7, Q4_0: 1 });
    const out = lines.join('\n');
    for (const [label, tokens] of [['BF16', 4], ['Q8_0', 3], ['Q4_K', 3]]) {
      expect(out).toMatch(new RegExp(`peers: the same ${label} GGUF .*greedy ${tokens} tokens per sequence`));
    }
    expect(out).toMatch(/Q4_K +thinktree +llama\.cpp +ratio\nprompt 12 .*\ndecode B=1 .*\ndecode B=2 +[\d.]+ +[\d.]+ +[\d.]+×/);
  });

  it("stops llama.cpp's decode at the time budget and says over how many tokens its rate is", async () => {
    const lines: string[] = [];
    const res = await benchPeers({
      threads: 1,
      log: (l) => void lines.push(l),
      types: ['q8_0'],
      quantizedBatches: [2],
      promptTokens: 12,
      quantizedNewTokens: 5,
      decodeBudgetSeconds: 0, // past the deadline as soon as the first token is in
      shape: SHAPE,
    });
    const row = res!.types[0]!.decode[0]!;
    expect(row.llamaCppTokens).toBe(1);
    expect(row.llamaCpp).toBeGreaterThan(0);
    expect(lines.join('\n')).toMatch(/decode B=2 +[\d.]+ +[\d.]+ +[\d.]+× \(llama\.cpp: 1 tokens per sequence, stopped by the time budget\)/);
  });
});
