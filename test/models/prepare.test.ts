import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareModel } from '../../lib/models/prepare.js';
import { tempDir, tinyConfig, writeModelDir } from '../helpers/hf-files.js';

let root: string;
let cleanup: () => Promise<void>;
let n = 0;
beforeAll(async () => ({ dir: root, cleanup } = await tempDir()));
afterAll(() => cleanup());
const fresh = () => path.join(root, `m${n++}`);

const runtime = { kvCacheBytes: 1 << 20, pageTokens: 16, threads: 2, precision: 'f32' as const };

describe('prepareModel', () => {
  it('assembles the native spec from config.json, the tokenizer and the checkpoint', async () => {
    const dir = fresh();
    const config = tinyConfig('MistralForCausalLM', { sliding_window: 32, eos_token_id: 2 });
    await writeModelDir(dir, { config, generationConfig: { eos_token_id: [2, 9], temperature: 0.6 } });
    const { spec, tokenizer, generation, config: parsed } = await prepareModel(dir, runtime);
    expect(parsed.architecture).toBe('MistralForCausalLM');
    expect(spec).toMatchObject({
      hiddenSize: 8,
      intermediateSize: 12,
      numLayers: 2,
      numHeads: 2,
      numKvHeads: 1,
      headDim: 4,
      vocabSize: 272,
      rmsNormEps: 1e-6,
      ropeAttentionScaling: 1,
      attentionBias: false,
      tieWordEmbeddings: false,
      ...runtime,
    });
    expect(spec.isa).toBeUndefined();
    expect(Array.from(spec.ropeInvFreq)).toEqual([1, Math.fround(0.01)]);
    expect(spec.slidingWindow).toEqual(Int32Array.of(32, 32));
    expect(spec.eosTokenIds).toEqual(Int32Array.of(2, 9));
    expect(generation).toMatchObject({ eosTokenIds: [2, 9], temperature: 0.6 });
    expect(spec.files).toEqual([path.join(dir, 'model.safetensors')]);
    expect(spec.tensors).toHaveLength(1 + 2 * 9 + 1 + 1);
    expect(spec.tokenOffsets.length).toBe(tokenizer.vocabSize + 1);
    expect(spec.tokenBytes.length).toBe(spec.tokenOffsets[tokenizer.vocabSize]);
  });

  it('reports progress as the fraction of safetensors headers read', async () => {
    const dir = fresh();
    await writeModelDir(dir, { shards: 3 });
    const seen: number[] = [];
    await prepareModel(dir, { ...runtime, onProgress: (f) => seen.push(f) });
    expect(seen).toEqual([1 / 3, 2 / 3, 1]);
  });

  it('rejects with an AbortError before reading any file when the signal is already aborted', async () => {
    const missing = path.join(root, 'does-not-exist');
    const err = await prepareModel(missing, { ...runtime, signal: AbortSignal.abort() }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('AbortError');
  });

  it('stops between shards when aborted during loading', async () => {
    const dir = fresh();
    await writeModelDir(dir, { shards: 3 });
    const ctl = new AbortController();
    const seen: number[] = [];
    const err = await prepareModel(dir, {
      ...runtime,
      signal: ctl.signal,
      onProgress: (f) => {
        seen.push(f);
        ctl.abort();
      },
    }).catch((e: unknown) => e as Error);
    expect((err as Error).name).toBe('AbortError');
    expect(seen).toEqual([1 / 3]);
  });

  it('rejects a tokenizer with more ids than config.json vocab_size rows', async () => {
    const dir = fresh();
    const config = tinyConfig('LlamaForCausalLM', { vocab_size: 200 });
    await writeModelDir(dir, { config });
    await expect(prepareModel(dir, runtime)).rejects.toThrow(
      `${path.join(dir, 'tokenizer.json')}: has 268 token ids but the model's embedding has only 200 rows (config.json vocab_size 200)`,
    );
  });

  it('names a missing config.json with the OS error', async () => {
    const dir = fresh();
    await writeModelDir(dir);
    await rm(path.join(dir, 'config.json'));
    await expect(prepareModel(dir, runtime)).rejects.toThrow(`${path.join(dir, 'config.json')}: cannot read the file (ENOENT`);
  });

  it('rejects invalid runtime options with a TypeError naming the option', async () => {
    const dir = fresh();
    await writeModelDir(dir);
    await expect(prepareModel(dir, { ...runtime, pageTokens: 0 })).rejects.toThrow('Expected `pageTokens` to be a positive integer, got 0');
  });
});
