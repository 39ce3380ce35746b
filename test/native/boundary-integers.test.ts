// Issue 30, "numbers that wrap or truncate on their way to native code": every integer that crosses
// N-API is range-checked, in TypeScript where the user's option has a name and again in the addon.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../lib/errors.js';
import { toInt32Array } from '../../lib/models/lifecycle.js';
import { loadModel, type Model } from '../../lib/models/model.js';
import { checkSampling } from '../../lib/models/sampling.js';
import type { NativeModel, SeqId } from '../../lib/native/addon-types.js';
import { nativeAddon } from '../../lib/native/load.js';
import { writeTinyModel, type TinyModel } from '../helpers/tiny-model.js';

const FIXTURE = path.resolve(import.meta.dirname, '..', 'fixtures', 'tiny', 'llama-f32');
const TWO_32_PLUS_1 = 2 ** 32 + 1;

describe('sampling options at the TypeScript boundary', () => {
  it('refuses a topK of 2^32 + 1, which an Int32Array would turn into 1 (greedy)', () => {
    expect(() => checkSampling({ topK: TWO_32_PLUS_1 })).toThrow(OptionError);
    expect(() => checkSampling({ topK: TWO_32_PLUS_1 })).toThrow(/`topK` to be an integer in \[0, 2147483647\], got 4294967297/);
  });

  it('accepts the largest topK an int32 holds', () => {
    expect(checkSampling({ topK: 2 ** 31 - 1 }).topK).toBe(2 ** 31 - 1);
  });

  it('refuses a fractional or NaN topK', () => {
    expect(() => checkSampling({ topK: 1.5 })).toThrow(/topK/);
    expect(() => checkSampling({ topK: Number.NaN })).toThrow(/topK/);
  });
});

describe('toInt32Array', () => {
  it('names the entry that would wrap', () => {
    expect(() => toInt32Array('eosTokenIds', [1, TWO_32_PLUS_1], 0)).toThrow(/`eosTokenIds\[1\]` to be an integer in \[0, 2147483647\]/);
  });

  it('refuses undefined and NaN, which Int32Array.from turns into 0', () => {
    expect(() => toInt32Array('ids', [undefined as unknown as number])).toThrow(/`ids\[0\]`.*got undefined/);
    expect(() => toInt32Array('ids', [Number.NaN])).toThrow(/`ids\[0\]`.*got NaN/);
  });

  it('keeps integers in range as they are', () => {
    expect(Array.from(toInt32Array('ids', [-(2 ** 31), 0, 2 ** 31 - 1]))).toEqual([-(2 ** 31), 0, 2 ** 31 - 1]);
  });
});

describe('Model options', () => {
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(FIXTURE, { threads: 1, kvCacheBytes: 1 << 20 });
  });
  afterAll(() => model.dispose());

  it('generate() refuses a topK that would wrap, naming topK', async () => {
    await expect(model.generate([1, 2, 3], { topK: TWO_32_PLUS_1, maxTokens: 2 })).rejects.toThrow(/`topK`.*4294967297/);
  });

  it('generate() refuses a token id of 2^32 + 1, naming its index', async () => {
    await expect(model.generate([1, TWO_32_PLUS_1], { maxTokens: 2 })).rejects.toThrow(/index 1.*4294967297/);
  });
});

describe('native integer reads', () => {
  const addon = nativeAddon();
  let tiny: TinyModel;
  let native: NativeModel;
  beforeAll(async () => {
    tiny = writeTinyModel({ seed: 3, pageTokens: 4 });
    native = await addon.loadModel(tiny.spec);
  });
  afterAll(() => {
    native.dispose();
    tiny.cleanup();
  });

  it('refuses a sequence id of 2^32, which an int32 would read as 0', () => {
    const s = native.createSequence(0);
    expect(() => native.release((s + 2 ** 32) as SeqId)).toThrow(RangeError);
    expect(() => native.sequenceLength((s + 2 ** 32) as SeqId)).toThrow(/`seq` to be an integer in \[0, 2147483647\]/);
    native.release(s);
  });

  it('refuses a seed past 2^53 − 1, where doubles stop being exact', () => {
    expect(() => native.createSequence(2 ** 53)).toThrow(/`seed` to be an integer in \[0, 9007199254740991\]/);
  });

  it('refuses a fractional, non-finite or non-number length, naming it', () => {
    const s = native.createSequence(0);
    expect(() => native.truncate(s, 1.5)).toThrow(/`length`.*got 1.5/);
    expect(() => native.truncate(s, Number.POSITIVE_INFINITY)).toThrow(/`length`.*got Infinity/);
    expect(() => native.truncate(s, '1' as unknown as number)).toThrow(TypeError);
    native.release(s);
  });

  it('refuses a spec.vocabSize past int32, naming it', () => {
    expect(() => addon.loadModel({ ...tiny.spec, vocabSize: TWO_32_PLUS_1 })).toThrow(/`spec.vocabSize` to be an integer in \[1, 2147483647\]/);
  });

  it('refuses a tensor file index past int32, naming it', () => {
    const tensors = tiny.spec.tensors.map((t, i) => (i === 0 ? { ...t, file: TWO_32_PLUS_1 } : t));
    expect(() => addon.loadModel({ ...tiny.spec, tensors })).toThrow(/`spec.tensors\[0\].file` to be an integer in \[0, 2147483647\]/);
  });
});
