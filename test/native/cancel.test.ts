/**
 * Stopping native work between tokens (issue 30, hangs: dispose() during a generateStep blocked the
 * JavaScript thread until the whole generation finished and did not cancel it). A call stops at its
 * next token or chunk when its model is disposed (code DISPOSED) or its cancel id is cancelled (code
 * ABORTED); either way every sequence is rolled back, and the error's `steps` says how far it got.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NativeGenerateStepRequest, NativeModel, SeqId } from '../../lib/native/addon-types.js';
import { nativeAddon } from '../../lib/native/load.js';
import { writeTinyModel, type TinyModel } from '../helpers/tiny-model.js';

const addon = nativeAddon();
/** Far more tokens than the tests wait for: a call that is not stopped runs for seconds. */
const LONG = 20_000;

let tiny: TinyModel | undefined;
let model: NativeModel | undefined;
afterEach(() => {
  model?.dispose();
  tiny?.cleanup();
  model = tiny = undefined;
});

async function load(): Promise<NativeModel> {
  tiny = writeTinyModel({ seed: 11, hidden: 128, intermediate: 256, layers: 2, pageTokens: 16, kvCacheBytes: 64 << 20, threads: 1 });
  model = await addon.loadModel(tiny.spec);
  return model;
}

function request(seqs: SeqId[], maxTokens: number, cancelId?: number): NativeGenerateStepRequest {
  const n = seqs.length;
  return {
    seqs: Int32Array.from(seqs),
    temperature: new Float32Array(n),
    topK: new Int32Array(n),
    topP: new Float32Array(n).fill(1),
    minP: new Float32Array(n),
    maxTokens: new Int32Array(n).fill(maxTokens),
    stop: [],
    stopAtEos: false,
    ...(cancelId === undefined ? {} : { cancelId }),
  };
}

const PROMPT = Int32Array.of(5, 77, 12, 200, 31);

function prompted(m: NativeModel): SeqId {
  const s = m.createSequence(0);
  m.appendTokens(s, PROMPT);
  return s;
}

/** The rejection of `p`, which must reject. */
async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; steps?: number }> {
  return p.then(
    () => {
      throw new Error('expected the call to be stopped, but it ran to the end');
    },
    (e: Error) => e,
  );
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cancelling a generateStep', () => {
  it('stops between tokens, rolls the sequence back and leaves the model usable', async () => {
    const m = await load();
    const pagesBefore = m.kvStats().pagesInUse;
    const s = prompted(m);
    const running = m.generateStep(request([s], LONG, 7));
    await tick(30);
    expect(addon.cancelCall(7)).toBe(true);
    const err = await rejection(running);
    expect(err.code).toBe('ABORTED');
    expect(err.steps).toBeGreaterThanOrEqual(0);
    expect(err.steps).toBeLessThan(LONG);
    // Rolled back: the prompt alone, and the same greedy tokens as a sequence that never ran.
    expect(Array.from(m.sequenceTokens(s))).toEqual(Array.from(PROMPT));
    const fresh = prompted(m);
    const [a, b] = [await m.generateStep(request([s], 12)), await m.generateStep(request([fresh], 12))];
    expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
    m.releaseMany(Int32Array.of(s, fresh));
    expect(m.kvStats().pagesInUse).toBe(pagesBefore);
    // The id is free again once its call settled.
    expect(addon.cancelCall(7)).toBe(false);
  });

  it('stops a forward that is queued behind a running call before it computes anything', async () => {
    const m = await load();
    const s = prompted(m), t = prompted(m);
    const long = m.generateStep(request([s], LONG, 8));
    await tick(30); // the generation holds the model now, for seconds unless stopped
    const queued = rejection(m.forward(Int32Array.of(t), 'all', 9));
    expect(addon.cancelCall(9)).toBe(true);
    expect(addon.cancelCall(8)).toBe(true);
    expect((await rejection(long)).code).toBe('ABORTED');
    expect((await queued).code).toBe('ABORTED');
    // t's tokens are still pending: forward runs them now.
    const before = m.kvStats().tokensComputed;
    await m.forward(Int32Array.of(t), 'all');
    expect(m.kvStats().tokensComputed - before).toBe(PROMPT.length);
  });

  it('refuses a cancel id that is not a positive int32 or is in use', async () => {
    const m = await load();
    const s = prompted(m), t = prompted(m);
    expect(() => m.generateStep(request([s], 4, 0))).toThrow(RangeError);
    expect(() => m.generateStep(request([s], 4, 2 ** 31))).toThrow(/cancelId/);
    expect(() => m.forward(Int32Array.of(s), 'last', 1.5)).toThrow(/cancelId/);
    const running = m.generateStep(request([s], LONG, 12));
    expect(() => m.generateStep(request([t], 4, 12))).toThrow('Expected `cancelId` to name no call in flight, but 12 is in use');
    addon.cancelCall(12);
    await rejection(running);
    expect(() => addon.cancelCall(-1)).toThrow(RangeError);
  });
});

describe('dispose() during a generateStep', () => {
  it('returns without waiting for the generation, which stops and rejects as disposed', async () => {
    const m = await load();
    const s = prompted(m), t = prompted(m); // (sequence calls wait for a running call: made first)
    const running = m.generateStep(request([s], LONG));
    await tick(30);
    const queued = rejection(m.generateStep(request([t], 4)));
    const t0 = performance.now();
    m.dispose();
    // Generous: a dispose that waited for the generation would take seconds.
    expect(performance.now() - t0).toBeLessThan(1000);
    model = undefined;
    const err = await rejection(running);
    expect(err.code).toBe('DISPOSED');
    expect(err.steps).toBeLessThan(LONG);
    expect((await queued).code).toBe('DISPOSED');
    expect(() => m.kvStats()).toThrow('disposed');
  });

  it('frees the model even when dispose() comes before the queued call starts', async () => {
    const m = await load();
    const p = m.generateStep(request([prompted(m)], LONG));
    m.dispose();
    model = undefined;
    expect((await rejection(p)).code).toBe('DISPOSED');
  });
});

describe('cancelling a load', () => {
  it('rejects as aborted and gives no model', async () => {
    tiny = writeTinyModel({ seed: 12 });
    for (const mmap of [true, false]) {
      const p = addon.loadModel({ ...tiny.spec, mmap }, undefined, 21);
      expect(addon.cancelCall(21)).toBe(true);
      expect((await rejection(p)).code).toBe('ABORTED');
    }
  });
});
