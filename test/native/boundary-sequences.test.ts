// Issue 30, "sequence handles not tied to their model and not validated inside arrays": ids are unique
// in the process, so another model's id is no sequence of this one, and every element of an id array is
// checked before any work (Int32Array.from makes 0 of undefined and NaN, which used to be sequence 0).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../lib/errors.js';
import { loadModel, type Model } from '../../lib/models/model.js';
import type { NativeModel, SeqId } from '../../lib/native/addon-types.js';
import { nativeAddon } from '../../lib/native/load.js';
import { nativeKernels } from '../../lib/native/kernels.js';
import { writeTinyModel, type TinyModel } from '../helpers/tiny-model.js';

const FIXTURE = path.resolve(import.meta.dirname, '..', 'fixtures', 'tiny', 'llama-f32');
const bad = (v: unknown) => v as SeqId;

describe('native sequence ids', () => {
  const addon = nativeAddon();
  let tiny: TinyModel;
  let a: NativeModel;
  let b: NativeModel;
  beforeAll(async () => {
    tiny = writeTinyModel({ seed: 5, pageTokens: 4 });
    a = await addon.loadModel(tiny.spec);
    b = await addon.loadModel(tiny.spec);
  });
  afterAll(() => {
    a.dispose();
    b.dispose();
    tiny.cleanup();
  });

  it('never issues 0, which Int32Array.from makes of undefined and NaN', () => {
    const s = a.createSequence(0);
    expect(s).toBeGreaterThan(0);
    expect(() => a.sequenceLength(bad(0))).toThrow('sequence 0 does not exist');
    a.release(s);
  });

  it('wraps its id counter at 2^31 − 1 back to 1, skipping ids still in use', () => {
    const kernels = nativeKernels();
    const live = a.createSequence(0); // holds an id the wrap must skip
    kernels.setNextSequenceIdForTesting(2147483646);
    const last = [a.createSequence(0), b.createSequence(0)];
    expect(last).toEqual([2147483646, 2147483647]);
    kernels.setNextSequenceIdForTesting(live);
    const after = a.createSequence(0);
    expect(after).toBe(live + 1); // `live` is in use, so the counter moves past it
    // the ids work as usual: another model still does not know them
    expect(() => b.sequenceLength(after)).toThrow(`sequence ${after} does not exist`);
    a.release(last[0]!);
    b.release(last[1]!);
    a.release(after);
    a.release(live);
    kernels.setNextSequenceIdForTesting(2147483647);
    const top = a.createSequence(0);
    expect(top).toBe(2147483647);
    const wrapped = a.createSequence(0);
    expect(wrapped).toBeGreaterThanOrEqual(1); // wrapped: a small positive id, not a negative one
    expect(wrapped).toBeLessThan(top);
    a.release(top);
    a.release(wrapped);
  });

  it('gives two models different ids, so one cannot release the other’s sequence', () => {
    const sa = a.createSequence(0);
    a.appendTokens(sa, Int32Array.of(1, 2, 3));
    const sb = b.createSequence(0);
    expect(sb).not.toBe(sa);
    expect(() => b.release(sa)).toThrow(`sequence ${sa} does not exist`);
    expect(a.sequenceLength(sa)).toBe(3); // untouched
    expect(b.sequenceLength(sb)).toBe(0);
    a.release(sa);
    b.release(sb);
  });

  it('releaseMany names the call and the index of an element that is not a sequence of this model', () => {
    const s = a.createSequence(0);
    const other = b.createSequence(0);
    expect(() => a.releaseMany(Int32Array.of(s, s === 1 ? 2 : 1, 0))).toThrow(/^releaseMany: element 1 is not a sequence of this model/);
    expect(() => a.releaseMany(Int32Array.of(s, other))).toThrow(`releaseMany: element 1 is not a sequence of this model: ${other}`);
    expect(a.kvStats().sequences).toBe(1); // nothing was released
    a.release(s);
    b.release(other);
  });

  it('forkMany refuses another model’s parent and forks nothing', () => {
    const s = a.createSequence(0);
    const other = b.createSequence(0);
    expect(() => a.forkMany(Int32Array.of(s, other))).toThrow(`forkMany: element 1 is not a sequence of this model: ${other}`);
    expect(a.kvStats().sequences).toBe(1);
    a.release(s);
    b.release(other);
  });

  it('forkMany still forks a parent listed twice', () => {
    const s = a.createSequence(0);
    const kids = a.forkMany(Int32Array.of(s, s));
    expect(new Set([s, ...kids]).size).toBe(3);
    a.releaseMany(Int32Array.of(s, ...kids));
  });

  it('generateStep and forward reject an element that is not this model’s, naming call and index', async () => {
    const s = a.createSequence(0);
    a.appendTokens(s, Int32Array.of(4, 5));
    const other = b.createSequence(0);
    const req = {
      seqs: Int32Array.of(s, other),
      temperature: new Float32Array(2),
      topK: new Int32Array(2),
      topP: new Float32Array(2).fill(1),
      minP: new Float32Array(2),
      maxTokens: new Int32Array(2).fill(2),
      stop: [],
      stopAtEos: false,
    };
    await expect(a.generateStep(req)).rejects.toThrow(`generateStep: element 1 is not a sequence of this model: ${other}`);
    await expect(a.forward(Int32Array.of(other), 'last')).rejects.toThrow(`forward: element 0 is not a sequence of this model: ${other}`);
    expect(a.sequenceLength(s)).toBe(2);
    a.release(s);
    b.release(other);
  });

  it('a released id stays unknown after later sequences are made', () => {
    const s = a.createSequence(0);
    a.release(s);
    const t = a.createSequence(0);
    expect(t).not.toBe(s);
    expect(() => a.releaseMany(Int32Array.of(s))).toThrow(`releaseMany: element 0 is not a sequence of this model: ${s}`);
    a.release(t);
  });
});

describe('Model: id arrays are validated before they become Int32Arrays', () => {
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(FIXTURE, { threads: 1, kvCacheBytes: 1 << 20 });
  });
  afterAll(() => model.dispose());

  it('releaseMany refuses undefined and NaN, naming the index, and releases nothing', async () => {
    const s = await model.createSequence();
    expect(() => model.releaseMany([s, bad(undefined)])).toThrow(
      new OptionError('releaseMany: element 1 is not a sequence of this model: undefined'),
    );
    expect(() => model.releaseMany([s, s, bad(Number.NaN)])).toThrow('releaseMany: element 2 is not a sequence of this model: NaN');
    expect(await model.sequenceTokens(s)).toHaveLength(0); // still live
    await model.release(s);
  });

  it('forkMany refuses undefined', () => {
    expect(() => model.forkMany([bad(undefined)])).toThrow('forkMany: element 0 is not a sequence of this model: undefined');
  });

  it('generateStep refuses NaN and 2^32 + s', async () => {
    const s = await model.createSequence();
    expect(() => model.generateStep([bad(Number.NaN)])).toThrow(OptionError);
    expect(() => model.generateStep([s, bad(2 ** 32 + s)])).toThrow(`generateStep: element 1 is not a sequence of this model: ${2 ** 32 + s}`);
    await model.release(s);
  });

  it('release refuses undefined instead of releasing sequence 0', () => {
    expect(() => model.release(bad(undefined))).toThrow('release: not a sequence of this model: undefined');
  });
});
