import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContextLengthError } from '../../lib/models/errors.js';
import { loadModel, type Model } from '../../lib/models/model.js';
import { loadPrm, type Prm } from '../../lib/models/prm/prm.js';
import { tempDir, tinyConfig, writeModelDir } from '../helpers/hf-files.js';
import { fixtureDir } from './prm-fixtures.js';

const CONTEXT = 16;
const ids = (n: number, from = 5) => Array.from({ length: n }, (_, i) => from + (i % 50));

describe('a model with max_position_embeddings 16', () => {
  let model: Model;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    await writeModelDir(t.dir, { config: tinyConfig('LlamaForCausalLM', { max_position_embeddings: CONTEXT }) });
    model = await loadModel(t.dir, { device: 'cpu', precision: 'f32', threads: 1, kvCacheBytes: 1 << 20, pageTokens: 4 });
  });

  afterAll(async () => {
    model?.dispose();
    await cleanup?.();
  });

  it('refuses a prompt longer than the context, naming both lengths', async () => {
    const err = await model.generate(ids(CONTEXT + 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContextLengthError);
    expect((err as Error).message).toMatch(/needs 17 tokens, more than the model's context of 16 \(config\.json max_position_embeddings\)/);
    expect(model.kvStats().pagesInUse).toBe(0);
  });

  it('refuses logits() over more tokens than the context', async () => {
    await expect(model.logits(ids(CONTEXT + 3))).rejects.toThrow(/logits\(\) needs 19 tokens, more than the model's context of 16/);
  });

  it('refuses appendTokens past the context, counting the tokens already there', async () => {
    const seq = await model.createSequence();
    try {
      await model.appendTokens(seq, ids(10));
      const err = await model.appendTokens(seq, ids(7)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ContextLengthError);
      expect((err as ContextLengthError).length).toBe(17);
      expect((err as Error).message).toMatch(/\(10 tokens\) \+ 7 new tokens needs 17 tokens/);
      expect((await model.sequenceTokens(seq)).length).toBe(10);
    } finally {
      await model.release(seq);
    }
  });

  it('stops generate() at the context with finish reason length', async () => {
    const res = await model.generate(ids(12), { maxTokens: 100 });
    // Only EOS may end it earlier; otherwise it runs to the 4 positions left and says 'length'.
    expect(res.finishReason === 'eos' ? res.tokens.length < CONTEXT - 12 : res.tokens.length === CONTEXT - 12 && res.finishReason === 'length').toBe(true);
  });

  it('caps generateStep at the positions left, never past the context', async () => {
    const seq = await model.createSequence();
    try {
      await model.appendTokens(seq, ids(14));
      const [step] = await model.generateStep([seq], { maxTokens: 50, stopAtEos: false });
      expect(step!.tokens.length).toBe(2);
      expect(step!.finishReason).toBe('length');
      expect((await model.sequenceTokens(seq)).length).toBeLessThanOrEqual(CONTEXT);
    } finally {
      await model.release(seq);
    }
  });

  it('returns an empty step with finish reason length for a sequence already at the context', async () => {
    const [full, room] = [await model.createSequence(), await model.createSequence({ seed: 1 })];
    try {
      await model.appendTokens(full, ids(CONTEXT));
      await model.appendTokens(room, ids(4));
      const [a, b] = await model.generateStep([full, room], { maxTokens: 3, stopAtEos: false });
      expect(a!.tokens.length).toBe(0);
      expect(a!.logprobs.length).toBe(0);
      expect(a!.finishReason).toBe('length');
      expect(b!.tokens.length).toBe(3);
    } finally {
      await model.releaseMany([full, room]);
    }
  });
});

describe('a PRM with max_position_embeddings 100', () => {
  let prm: Prm;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const dir = path.join(t.dir, 'prm');
    await cp(fixtureDir('qwen2-prm'), dir, { recursive: true });
    const file = path.join(dir, 'config.json');
    const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...config, max_position_embeddings: 100 }));
    prm = await loadPrm(dir, { format: 'qwen2.5-math-prm', precision: 'f32', threads: 1, kvCacheBytes: 4 << 20, pageTokens: 8 });
  });

  afterAll(async () => {
    prm?.dispose();
    await cleanup?.();
  });

  it('refuses scoreSteps whose text outgrows the context, naming the step', async () => {
    const steps = ['Step one is short.', 'Step two goes on' + ' and on'.repeat(30) + '.'];
    const err = await prm.scoreSteps('What is 1 + 1?', steps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContextLengthError);
    expect((err as Error).message).toMatch(/scoreSteps\(\): step 1 needs \d+ tokens, more than the model's context of 100/);
  });

  it('refuses score() of a node step past the context, naming the node and step', async () => {
    const root = await prm.root('Q?');
    try {
      const long = 'a long step '.repeat(20);
      await expect(prm.score([root], [long])).rejects.toThrow(/score\(\): node \d+, step 0 needs \d+ tokens, more than the model's context of 100/);
      // The node is unchanged: a step that fits is still its step 0.
      const { rewards } = await prm.score([root], ['x = 1.']);
      expect(Number.isFinite(rewards[0])).toBe(true);
    } finally {
      await prm.release([root]);
    }
  });

  it('refuses scoreIds over more tokens than the context', async () => {
    await expect(prm.scoreIds(ids(101), [100])).rejects.toThrow(/scoreIds\(\): the input needs 101 tokens/);
  });

  it('refuses scoreAt positions past the context, naming the input', async () => {
    await expect(prm.scoreAt([ids(10), ids(130)], [[9], [4, 119]])).rejects.toThrow(/scoreAt\(\): input 1 up to position 119 needs 120 tokens/);
  });
});
