// The engine against an independent PyTorch implementation of the Hugging Face math
// (tools/fixtures/reference.py), on tiny random models in every supported layout and dtype.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../../lib/models/model.js';
import { TINY_DIR, TINY_MODELS, maxAbsDiff, readReference, type Reference } from '../helpers/reference-fixtures.js';

// With f32 activations the only differences from the reference are summation order and libm:
// f32 weights ≤ 1e-4; bf16/f16 weights (upcast exactly) ≤ 1e-3 (the tolerances).
const TOLERANCE: Record<(typeof TINY_MODELS)[number], number> = {
  'llama-f32': 1e-4,
  'llama-bf16-sharded': 1e-3,
  'qwen2-bf16': 1e-3,
  'mistral-f16': 1e-3,
};

describe.each(TINY_MODELS)('%s in f32 precision', (name) => {
  const dir = path.join(TINY_DIR, name);
  let model: Model;
  let ref: Reference;
  beforeAll(async () => {
    ref = readReference(dir);
    model = await loadModel(dir, { precision: 'f32', threads: 2, kvCacheBytes: 8 << 20 });
  });
  afterAll(() => model?.dispose());

  it('matches the reference logits at every prompt position', async () => {
    for (const p of ref.prompts) {
      const logits = await model.logits(p.tokens);
      expect(logits.length).toBe(p.logits.rows * p.logits.cols);
      expect(maxAbsDiff(logits, p.logits.data), p.name).toBeLessThanOrEqual(TOLERANCE[name]);
    }
  });

  it('encodes the prompt texts to the reference token ids', () => {
    for (const p of ref.prompts) expect(Array.from(model.tokenizer.encode(p.text, { addSpecialTokens: true }))).toEqual(p.tokens);
  });

  it('decodes greedily to the reference continuation, step logits matching through the KV cache', async () => {
    for (const p of ref.prompts) {
      const seq = await model.createSequence();
      await model.appendTokens(seq, p.tokens);
      const [step] = await model.generateStep([seq], { maxTokens: p.greedy.tokens.length, temperature: 0, stopAtEos: false });
      expect(Array.from(step.tokens), p.name).toEqual(p.greedy.tokens);
      await model.release(seq);
    }
  });

  it('returns every KV page to the pool', () => {
    const kv = model.kvStats();
    expect(kv.pagesFree).toBe(kv.pagesTotal);
  });
});

describe.each(TINY_MODELS)('%s in bf16 precision', (name) => {
  const dir = path.join(TINY_DIR, name);
  it('keeps greedy agreement wherever the reference top-2 margin exceeds 0.5', async () => {
    const ref = readReference(dir);
    const model = await loadModel(dir, { precision: 'bf16', threads: 2, kvCacheBytes: 8 << 20 });
    try {
      let worst = 0;
      for (const p of ref.prompts) {
        worst = Math.max(worst, maxAbsDiff(await model.logits(p.tokens), p.logits.data));
        const rows = p.greedy.tokens.length;
        // Decode along the reference path and compare the argmax where the margin is clear.
        const seq = await model.createSequence();
        await model.appendTokens(seq, p.tokens);
        for (let s = 0; s < rows; s++) {
          const [step] = await model.generateStep([seq], { maxTokens: 1, temperature: 0, stopAtEos: false });
          const ours = step.tokens[0];
          if (p.greedy.margins[s] > 0.5) expect(ours, `${p.name} step ${s}`).toBe(p.greedy.tokens[s]);
          if (ours !== p.greedy.tokens[s]) break; // off the reference path: later steps are not comparable
        }
        await model.release(seq);
      }
      console.log(`[bf16 precision] ${name}: max |logit - reference| = ${worst.toExponential(2)}`);
    } finally {
      model.dispose();
    }
  });
});
