/**
 * Abort and dispose during a generation, through the public API (issue 30, hangs: dispose() during a
 * generateStep blocked the JavaScript thread until the whole generation finished). The larger demo
 * policy on one thread makes a 1000-token step take seconds, so both land mid-generation.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DisposedError, loadModel, type Model } from '../../lib/index.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'policy-large');
const LONG = 1000;
const step = { maxTokens: LONG, stopAtEos: false, temperature: 0 } as const;
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

let model: Model | undefined;
afterEach(() => {
  model?.dispose();
  model = undefined;
});

describe('an AbortSignal given to generateStep', () => {
  it('stops the native generation between tokens and leaves the sequence as it was', async () => {
    model = await loadModel(dir, { threads: 1, device: 'cpu' });
    const seq = await model.createSequence();
    await model.appendTokens(seq, '12+7=');
    const prompt = Array.from(await model.sequenceTokens(seq));
    const before = model.kvStats();
    const ac = new AbortController();
    const running = model.generateStep([seq], { ...step, signal: ac.signal });
    await tick(50);
    ac.abort(new Error('enough'));
    await expect(running).rejects.toThrow('enough');
    // Stopped early: far fewer tokens were computed than the step asked for.
    expect(model.kvStats().tokensComputed - before.tokensComputed).toBeLessThan(LONG);
    expect(Array.from(await model.sequenceTokens(seq))).toEqual(prompt);
    // The sequence generates what a sequence that never ran generates.
    const fresh = await model.createSequence();
    await model.appendTokens(fresh, '12+7=');
    const [a] = await model.generateStep([seq], { maxTokens: 8, temperature: 0 });
    const [b] = await model.generateStep([fresh], { maxTokens: 8, temperature: 0 });
    expect(Array.from(a!.tokens)).toEqual(Array.from(b!.tokens));
  });

  it('rejects at once when already aborted', async () => {
    model = await loadModel(dir, { threads: 1, device: 'cpu' });
    const seq = await model.createSequence();
    await model.appendTokens(seq, '1+1=');
    const ac = new AbortController();
    ac.abort();
    const computed = model.kvStats().tokensComputed;
    await expect(model.generate('1+1=', { maxTokens: 4, signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(model.kvStats().tokensComputed).toBe(computed);
  });
});

describe('dispose() during a generation', () => {
  it('returns at once, and the generation rejects with DisposedError', async () => {
    model = await loadModel(dir, { threads: 1, device: 'cpu' });
    const m = model;
    const seq = await m.createSequence();
    await m.appendTokens(seq, '3*4=');
    const running = m.generateStep([seq], step);
    const generated = m.generate('5*5=', { maxTokens: LONG });
    await tick(50);
    const t0 = performance.now();
    m.dispose();
    // Generous bound: waiting for the generation would take seconds.
    expect(performance.now() - t0).toBeLessThan(1000);
    await expect(running).rejects.toBeInstanceOf(DisposedError);
    await expect(generated).rejects.toBeInstanceOf(DisposedError);
  });
});
