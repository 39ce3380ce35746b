// A GGUF file written by our exporter from each tiny safetensors fixture loads to the same model:
// identical logits (same weight bytes, Q/K un-permuted by the interleaved RoPE for `llama`), the same
// tokenization, chat template and end-of-generation ids.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportGguf, type GgufTargetType } from '../../../lib/models/gguf/export.js';
import { readGgufHeader } from '../../../lib/models/gguf/reader.js';
import { loadModel, type Model } from '../../../lib/models/model.js';
import { TINY_DIR, readReference } from '../../helpers/reference-fixtures.js';

const tmp = await mkdtemp(path.join(os.tmpdir(), 'gguf-load-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

// Each fixture written in its own weight type, so the matrices' bytes are the same.
const CASES: ReadonlyArray<[string, GgufTargetType, string]> = [
  ['llama-f32', 'f32', 'llama'],
  ['llama-bf16-sharded', 'bf16', 'llama'],
  ['qwen2-bf16', 'bf16', 'qwen2'],
  ['mistral-f16', 'f16', 'llama'],
];

const TEXTS = ['Hello world', ' 12 + 7 = 19\n\nso the answer', '<|im_start|>user\nhi<|im_end|>', 'ünïcode ✓ 🌍'];

describe.each(CASES)('%s written as a %s GGUF', (name, type, arch) => {
  const dir = path.join(TINY_DIR, name);
  const file = path.join(tmp, `${name}.gguf`);
  let st: Model;
  let gg: Model;
  beforeAll(async () => {
    await exportGguf(dir, file, { type });
    const opts = { precision: 'f32', threads: 2, kvCacheBytes: 8 << 20, device: 'cpu' } as const;
    st = await loadModel(dir, opts);
    gg = await loadModel(file, opts);
  });
  afterAll(() => {
    st?.dispose();
    gg?.dispose();
  });

  it(`names arch ${arch} and keeps 1-D tensors in F32`, async () => {
    const g = await readGgufHeader(file);
    expect(g.metadata.get('general.architecture')).toEqual({ type: 'string', value: arch });
    expect(g.tensors.get('output_norm.weight')!.type.name).toBe('F32');
    expect(g.tensors.get('blk.0.attn_q.weight')!.type.name).toBe(type.toUpperCase());
  });

  it('maps the metadata onto the same model config', () => {
    const { ropeScaling: a, ...restA } = st.config;
    const { ropeScaling: b, ...restB } = gg.config;
    // GGUF stores eps as f32 (the kernels use it as f32 either way) and has one `llama` for Llama and Mistral.
    const arch = restA.architecture === 'MistralForCausalLM' ? 'LlamaForCausalLM' : restA.architecture;
    expect(restB).toEqual({ ...restA, architecture: arch, rmsNormEps: Math.fround(restA.rmsNormEps) });
    if (a.type === 'llama3') expect(b.type).toBe('freq-factors');
    else expect(b).toEqual(a);
  });

  it('gives identical logits at every position of the reference prompts', async () => {
    for (const p of readReference(dir).prompts) {
      const want = await st.logits(p.tokens);
      const got = await gg.logits(p.tokens);
      expect(got.length).toBe(want.length);
      let diff = 0;
      for (let i = 0; i < got.length; i++) diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
      expect(diff, p.name).toBe(0);
    }
  });

  it('tokenizes, decodes and renders the chat template as the safetensors tokenizer does', () => {
    for (const t of TEXTS) {
      const ids = st.tokenizer.encode(t);
      expect(Array.from(gg.tokenizer.encode(t)), t).toEqual(Array.from(ids));
      expect(gg.tokenizer.decode(ids)).toBe(st.tokenizer.decode(ids));
    }
    expect(gg.tokenizer.eosTokenIds).toEqual(st.tokenizer.eosTokenIds);
    expect(gg.tokenizer.tokenBytes()).toEqual(st.tokenizer.tokenBytes());
    const messages = [{ role: 'user', content: 'What is 2 + 2?' }];
    let want: string | undefined;
    try {
      want = st.chatPrompt(messages);
    } catch {
      want = undefined;
    }
    if (want !== undefined) expect(gg.chatPrompt(messages)).toBe(want);
  });
});
