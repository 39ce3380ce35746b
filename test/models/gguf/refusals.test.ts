// GGUF files thinktree cannot run are refused at load with a GgufError naming what it found and what
// it supports (architecture, tokenizer family, pre-tokenizer, tensor type, missing or extra tensors).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GgufError } from '../../../lib/models/errors.js';
import { exportGguf } from '../../../lib/models/gguf/export.js';
import type { GgufValue } from '../../../lib/models/gguf/format.js';
import { parseGguf } from '../../../lib/models/gguf/reader.js';
import { encodeGguf, type GgufTensorInput } from '../../../lib/models/gguf/writer.js';
import { loadModel } from '../../../lib/models/model.js';
import { TINY_DIR } from '../../helpers/reference-fixtures.js';

const tmp = await mkdtemp(path.join(os.tmpdir(), 'gguf-refuse-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

let meta: Map<string, GgufValue>;
let tensors: GgufTensorInput[];

beforeAll(async () => {
  const file = path.join(tmp, 'base.gguf');
  await exportGguf(path.join(TINY_DIR, 'qwen2-bf16'), file, { type: 'bf16' });
  const { readFile } = await import('node:fs/promises');
  const buf = new Uint8Array(await readFile(file));
  const g = parseGguf(buf, file);
  meta = g.metadata;
  tensors = [...g.tensors.values()].map((t) => ({
    name: t.name,
    type: t.type.name,
    shape: t.shape,
    data: buf.subarray(g.dataStart + t.offset, g.dataStart + t.offset + t.byteLength),
  }));
});

/** Writes a variant of the base file and loads it. */
async function loadVariant(name: string, edit: (m: Map<string, GgufValue>, t: GgufTensorInput[]) => GgufTensorInput[] | void): Promise<unknown> {
  const m = new Map(meta);
  const t = [...tensors];
  const out = edit(m, t) ?? t;
  const file = path.join(tmp, `${name}.gguf`);
  await writeFile(file, encodeGguf(m, out));
  const model = await loadModel(file, { device: 'cpu', threads: 1, kvCacheBytes: 1 << 20 });
  model.dispose();
  return model;
}

const str = (value: string): GgufValue => ({ type: 'string', value });

describe('GGUF files thinktree cannot run', () => {
  it('loads the unmodified file (the refusals below come from the edits)', async () => {
    await expect(loadVariant('same', () => {})).resolves.toBeDefined();
  });

  it('refuses an unsupported architecture, naming it and the supported ones', async () => {
    const err = loadVariant('arch', (m) => void m.set('general.architecture', str('phi3')));
    await expect(err).rejects.toThrow(GgufError);
    await expect(err).rejects.toThrow(/architecture "phi3".*llama, qwen2/);
  });

  it('refuses a SentencePiece tokenizer, naming the family', async () => {
    await expect(loadVariant('spm', (m) => void m.set('tokenizer.ggml.model', str('llama')))).rejects.toThrow(/tokenizer family "llama" \(SentencePiece/);
  });

  it('refuses a pre-tokenizer it cannot reproduce, naming the supported ones', async () => {
    await expect(loadVariant('pre', (m) => void m.set('tokenizer.ggml.pre', str('deepseek-llm')))).rejects.toThrow(/pre-tokenizer "deepseek-llm".*gpt-2, qwen2, llama-bpe/);
  });

  it('refuses weights of a type the kernels do not read, naming the type', async () => {
    const err = loadVariant('q5', (_, t) =>
      t.map((x) => (x.name === 'blk.0.ffn_up.weight' ? { ...x, type: 'Q5_1', data: new Uint8Array((x.shape[0]! * x.shape[1]! / 32) * 24) } : x)),
    );
    await expect(err).rejects.toThrow(/tensor "blk.0.ffn_up.weight" has type Q5_1; thinktree loads F32, F16, BF16/);
  });

  it('refuses a file missing a tensor, naming it', async () => {
    await expect(loadVariant('missing', (_, t) => t.filter((x) => x.name !== 'blk.1.attn_k.bias'))).rejects.toThrow(/missing tensor "blk.1.attn_k.bias"/);
  });

  it('refuses a tensor the decoder would silently leave out', async () => {
    const err = loadVariant('extra', (_, t) => [...t, { name: 'blk.0.attn_q_norm.weight', type: 'F32', shape: [16], data: new Float32Array(16) }]);
    await expect(err).rejects.toThrow(/has tensor "blk.0.attn_q_norm.weight", which Qwen2ForCausalLM/);
  });

  it('refuses a tensor whose shape disagrees with the metadata', async () => {
    const err = loadVariant('shape', (m) => void m.set('qwen2.feed_forward_length', { type: 'u32', value: 96 }));
    await expect(err).rejects.toThrow(/tensor "blk.0.ffn_gate.weight" has shape \[\d+, 64\].*expected \[96, 64\]/);
  });

  it('refuses unsupported RoPE scaling, naming it', async () => {
    await expect(loadVariant('yarn', (m) => void m.set('qwen2.rope.scaling.type', str('yarn')))).rejects.toThrow(/"qwen2.rope.scaling.type" is "yarn"/);
  });

  it('refuses a metadata value of the wrong type, naming the key', async () => {
    await expect(loadVariant('type', (m) => void m.set('qwen2.block_count', str('3')))).rejects.toThrow(/"qwen2.block_count" must be a non-negative integer, got string "3"/);
  });
});
