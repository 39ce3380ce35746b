// The per-operation profile (native/runtime/profile.h) that `thinktree bench --only profile` prints:
// off by default, counts every operation of every layer of every step when on, and its classes add up
// (with the pool's waiting and the bookkeeping row) to the wall time of the native call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeModel, NativeProfile, SeqId } from '../../lib/native/addon-types.js';
import { nativeAddon } from '../../lib/native/load.js';
import { greedyRequest } from '../../lib/cli/bench/greedy.js';
import { profileColumn, PROFILE_ROWS } from '../../lib/cli/bench/profile.js';
import { writeTinyModel, type TinyModel } from '../helpers/tiny-model.js';

const LAYERS = 3;
let tiny: TinyModel;
let model: NativeModel;
beforeAll(async () => {
  tiny = writeTinyModel({ seed: 11, layers: LAYERS, threads: 2, pageTokens: 4 });
  model = await nativeAddon().loadModel(tiny.spec);
});
afterAll(() => {
  model?.dispose();
  tiny?.cleanup();
});

function greedy(seqs: SeqId[], maxTokens: number) {
  return model.generateStep(greedyRequest(Int32Array.from(seqs), maxTokens));
}

const total = (p: NativeProfile) => Object.values(p.opNs).reduce((a, b) => a + b, 0);

describe('native profile', () => {
  it('is off and empty until enabled', async () => {
    const s = model.createSequence(1);
    model.appendTokens(s, Int32Array.of(1, 2, 3));
    await greedy([s], 3);
    const p = model.profile();
    expect(p.enabled).toBe(false);
    expect(total(p) + p.callNs + p.steps + p.poolWaitNs).toBe(0);
    model.release(s);
  });

  it('counts each operation once per layer per step, and the rows add up to the call', async () => {
    const prompt = model.createSequence(2);
    model.appendTokens(prompt, Int32Array.of(5, 6, 7, 8, 9));
    const seqs = Array.from(model.forkMany(Int32Array.of(prompt, prompt)));
    model.setProfiling(true);
    const steps = 4;
    const t = performance.now();
    const res = await greedy(seqs, steps);
    const wallMs = performance.now() - t;
    const p = model.profile();
    model.setProfiling(false);
    expect(Array.from(res.tokenCounts)).toEqual([steps, steps]);
    // One batched forward per generated token (the prompt's pending tokens ride in the first).
    expect(p.steps).toBe(steps);
    expect(p.opCalls.gemmQkv).toBe(3 * LAYERS * steps);
    expect(p.opCalls.gemmO).toBe(LAYERS * steps);
    expect(p.opCalls.gemmGateUp).toBe(2 * LAYERS * steps);
    expect(p.opCalls.gemmDown).toBe(LAYERS * steps);
    expect(p.opCalls.attention).toBe(LAYERS * steps);
    expect(p.opCalls.kvWrite).toBe(LAYERS * steps);
    // embed + per layer (2 norms, 2 ropes, 2 adds, 1 swiglu) + gather + final norm
    expect(p.opCalls.elementwise).toBe(steps * (1 + 7 * LAYERS + 2));
    expect(p.opCalls.head).toBe(steps);
    expect(p.opCalls.sample).toBe(steps);
    expect(p.opCalls.stopCheck).toBe(steps);
    for (const ns of Object.values(p.opNs)) expect(ns).toBeGreaterThanOrEqual(0);
    expect(total(p) + p.poolWaitNs).toBeLessThanOrEqual(p.callNs);
    expect(p.callNs / 1e6).toBeLessThanOrEqual(wallMs);
    const col = profileColumn(2, p, wallMs, p.steps);
    const sum = PROFILE_ROWS.reduce((a, { row }) => a + col.rows[row], 0);
    expect(sum).toBeCloseTo(col.stepMs, 9);
    expect(col.rows.napiJs).toBeGreaterThanOrEqual(0);
    model.releaseMany(Int32Array.from(seqs));
    model.release(prompt);
  });

  it('clears the counters when enabled again, and refuses a non-boolean', async () => {
    model.setProfiling(true);
    expect(total(model.profile())).toBe(0);
    model.setProfiling(false);
    expect(() => model.setProfiling(1 as unknown as boolean)).toThrow(/`on` to be a boolean/);
  });
});
