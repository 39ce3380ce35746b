// A plain-JavaScript caller who misspells an option hears about it, with the option it probably meant.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../lib/errors.js';
import { Engine, loadEngine } from '../../lib/engine/engine.js';
import { loadModel, type Model } from '../../lib/models/model.js';
import { loadPrm } from '../../lib/models/prm/prm.js';
import { search } from '../../lib/search/search.js';
import { checkOptionKeys, closestKey } from '../../lib/util/options.js';
import { ScriptedBackend, treeScript } from './scripted-backend.js';

const FIXTURE = path.resolve(import.meta.dirname, '..', 'fixtures', 'tiny', 'llama-f32');
/** Options objects as plain JavaScript passes them: no type stops a misspelling. */
const js = (o: Record<string, unknown>) => o as never;

describe('checkOptionKeys', () => {
  it('names the unknown key and suggests the closest known one', () => {
    expect(() => checkOptionKeys({ beamWdith: 4 }, ['n', 'beamWidth'], 'the search options')).toThrow(
      new OptionError('Unknown option `beamWdith` in the search options; did you mean `beamWidth`?'),
    );
  });

  it('lists the known keys when nothing is close', () => {
    expect(() => checkOptionKeys({ zzz: 1 }, ['n', 'beamWidth'], 'x')).toThrow(
      'Unknown option `zzz` in x; known options: n, beamWidth',
    );
  });

  it('passes known keys and undefined; refuses null, arrays and primitives naming what it got', () => {
    expect(() => checkOptionKeys({ n: 1, beamWidth: undefined }, ['n', 'beamWidth'], 'x')).not.toThrow();
    expect(() => checkOptionKeys(undefined, ['n'], 'x')).not.toThrow();
    // null used to pass here and then crash the caller reading `options.seed`.
    expect(() => checkOptionKeys(null, ['n'], 'the x options')).toThrow('Expected the x options to be an object, got null');
    expect(() => checkOptionKeys([1], ['n'], 'the x options')).toThrow('Expected the x options to be an object, got an array');
    expect(() => checkOptionKeys('n', ['n'], 'the x options')).toThrow('Expected the x options to be an object, got the string "n"');
  });

  it.each([
    ['beamWdith', 'beamWidth'],
    ['beamwidth', 'beamWidth'],
    ['temprature', 'temperature'],
    ['maxStepToken', 'maxStepTokens'],
    ['kvCacheByte', 'kvCacheBytes'],
    ['N', 'n'],
  ])('suggests %s → %s', (typo, want) => {
    const known = ['n', 'beamWidth', 'temperature', 'maxStepTokens', 'maxSolutionTokens', 'kvCacheBytes'];
    expect(closestKey(typo, known)).toBe(want);
  });

  it('suggests nothing for a key far from every option', () => {
    expect(closestKey('colour', ['n', 'beamWidth', 'temperature'])).toBeNull();
  });
});

describe('public functions refuse misspelled options', () => {
  it('search()', async () => {
    const backend = new ScriptedBackend(treeScript({ depth: 2, answers: [{ answer: '1', p: 1 }] }));
    await expect(search('q', js({ backend, strategy: 'beam', n: 4, beamWdith: 2 }))).rejects.toThrow(
      /Unknown option `beamWdith` in the search options; did you mean `beamWidth`\?/,
    );
    expect(backend.live.size).toBe(0);
  });

  it('loadModel() and loadPrm(), before reading any file', async () => {
    await expect(loadModel('/no/such/dir', js({ kvCacheByte: 1 << 20 }))).rejects.toThrow(
      'Unknown option `kvCacheByte` in the loadModel() options; did you mean `kvCacheBytes`?',
    );
    await expect(loadPrm('/no/such/dir', js({ stepTags: 'ки' }))).rejects.toThrow(
      'Unknown option `stepTags` in the loadPrm() options; did you mean `stepTag`?',
    );
  });

  it('loadEngine()', async () => {
    await expect(loadEngine('/no/such/dir', undefined, js({ polcy: {} }))).rejects.toThrow(
      'Unknown option `polcy` in the loadEngine() options; did you mean `policy`?',
    );
  });

  describe('Model methods', () => {
    let model: Model;
    beforeAll(async () => {
      model = await loadModel(FIXTURE, { threads: 1, kvCacheBytes: 1 << 20 });
    });
    afterAll(() => model.dispose());

    it('generate()', async () => {
      await expect(model.generate([1, 2], js({ maxToken: 2 }))).rejects.toThrow(
        'Unknown option `maxToken` in the generate() options; did you mean `maxTokens`?',
      );
      const ok = await model.generate([1, 2], { maxTokens: 2, seed: 1 });
      expect(ok.tokens.length).toBeLessThanOrEqual(2);
    });

    it('engine.search()', async () => {
      const engine = new Engine(model, undefined);
      await expect(engine.search('q', js({ strategy: 'majority', n: 2, temprature: 0.5 }))).rejects.toThrow(
        'Unknown option `temprature` in the search options; did you mean `temperature`?',
      );
      expect(model.kvStats().pagesInUse).toBe(0);
    });

    it('generateStep(), createSequence() and chatPrompt()', async () => {
      const seq = await model.createSequence();
      try {
        expect(() => model.generateStep([seq], js({ stopAtEOS: false }))).toThrow('did you mean `stopAtEos`?');
      } finally {
        await model.release(seq);
      }
      expect(() => model.createSequence(js({ sed: 1 }))).toThrow('did you mean `seed`?');
      expect(() => model.chatPrompt([{ role: 'user', content: 'hi' }], js({ addGenerationPromt: true }))).toThrow(
        'did you mean `addGenerationPrompt`?',
      );
    });
  });
});
