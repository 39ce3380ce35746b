// Every error a user can cause through the public API is an exported class they can catch with
// instanceof, and its message names the user's option, file or field (never an internal name such as
// `spec.tokenOffsets` or `req.temperature[0]`, never "x.forEach is not a function").
import { copyFile, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tt from '../../lib/index.js';
import { MODELS, MODELS_READY } from '../viewer/real-search.js';

const POLICY = path.join(MODELS, 'policy');
const PRM = path.join(MODELS, 'prm');

const EXPORTED = Object.values(tt).filter(
  (v): v is new (...a: never[]) => Error => typeof v === 'function' && v.prototype instanceof Error,
);
// Names of our internals that must not reach a user's message.
const INTERNAL = /spec\.|req\.|\.forEach|\.map is not|is not iterable|Cannot read properties|undefined \(reading/;

async function failure(run: () => unknown): Promise<Error> {
  try {
    await run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

describe.skipIf(!MODELS_READY)('errors a user can cause', () => {
  let model: tt.Model;
  let prm: tt.Prm;
  let backend: tt.NativeBackend;
  let scratch: string;
  beforeAll(async () => {
    model = await tt.loadModel(POLICY);
    prm = await tt.loadPrm(PRM);
    backend = new tt.NativeBackend(model, prm, { formatPrompt: (q) => q });
    scratch = await mkdtemp(path.join(tmpdir(), 'thinktree-errors-'));
  });
  afterAll(async () => {
    model?.dispose();
    prm?.dispose();
    await rm(scratch, { recursive: true, force: true });
  });

  const bad: [string, () => unknown, RegExp][] = [
    ['a temperature given as a string', () => model.generate('1+1', { temperature: '0.5' as unknown as number }), /`temperature`.*the string "0.5"/],
    ['a topK past int32', () => model.generate('1+1', { topK: 2 ** 32 + 1 }), /`topK`.*4294967297/],
    ['stop as a number', () => model.generate('1+1', { stop: 5 as unknown as string[] }), /`stop` to be an array of strings, got 5/],
    ['a null prompt', () => model.generate(null as unknown as string), /text or an array of token ids, got null/],
    ['null options', () => model.generate('1', null as unknown as object), /generate\(\) options to be an object, got null/],
    ['messages as a string', () => model.chatPrompt('hi' as unknown as tt.ChatMessage[]), /`messages` to be an array.*the string "hi"/],
    ['a message without a role', () => model.chatPrompt([{ content: 'x' } as unknown as tt.ChatMessage]), /messages\[0\] to be \{role: string, content: string\}/],
    ['logits of null', () => model.logits(null as unknown as number[]), /got null/],
    ['appending to an unknown sequence', () => model.appendTokens(999_999 as tt.SeqId, 'x'), /sequence 999999/],
    ['a model path that is a number', () => tt.loadModel(5 as unknown as string), /model path to be a non-empty string, got 5/],
    ['a search question that is a number', () => tt.search(5 as unknown as string, { backend, strategy: 'best-of-n', n: 2 }), /question/],
  ];
  for (const [what, run, message] of bad) {
    it(`refuse ${what} with an exported error class naming it`, async () => {
      const err = await failure(run);
      expect(EXPORTED.some((C) => err instanceof C), `${err.constructor.name}: ${err.message}`).toBe(true);
      expect(err.message).toMatch(message);
      expect(err.message).not.toMatch(INTERNAL);
    });
  }

  it('refuse a weights file that is a character device by its kind, not by a negative size', async () => {
    const dir = path.join(scratch, 'chardev');
    await (await import('node:fs/promises')).mkdir(dir);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) await copyFile(path.join(POLICY, f), path.join(dir, f));
    await symlink('/dev/zero', path.join(dir, 'model.safetensors'));
    const err = await failure(() => tt.loadModel(dir));
    expect(err).toBeInstanceOf(tt.FileReadError);
    expect(err.message).toBe(`${path.join(dir, 'model.safetensors')}: cannot open the safetensors file: it is a character device, not a regular file`);
  });

  it('refuse a tokenizer.json with an empty vocabulary naming the file, not the native spec', async () => {
    const dir = path.join(scratch, 'empty-vocab');
    await (await import('node:fs/promises')).mkdir(dir);
    for (const f of ['config.json', 'tokenizer_config.json', 'model.safetensors']) await copyFile(path.join(POLICY, f), path.join(dir, f));
    const json = JSON.parse(await readFile(path.join(POLICY, 'tokenizer.json'), 'utf8'));
    json.model.vocab = {};
    json.model.merges = [];
    json.added_tokens = [];
    await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
    const err = await failure(() => tt.loadModel(dir));
    expect(err).toBeInstanceOf(tt.TokenizerError);
    expect(err.message).toMatch(/tokenizer\.json.*has an empty vocabulary/);
  });

  it('reject an aborted search and an aborted load with the one exported AbortError, the reason as its cause', async () => {
    const c = new AbortController();
    c.abort();
    const search = await failure(() => tt.search('12+7', { backend, strategy: 'beam', n: 4, signal: c.signal }));
    expect(search).toBeInstanceOf(tt.AbortError);
    expect(search.cause).toBe(c.signal.reason);
    const mid = new AbortController();
    const running = tt.search('12+7', { backend, strategy: 'beam', n: 8, signal: mid.signal });
    setTimeout(() => mid.abort(new Error('user pressed stop')), 20);
    const late = await failure(() => running);
    expect(late).toBeInstanceOf(tt.AbortError);
    expect(late.message).toMatch(/the search was aborted: user pressed stop/);
    const load = await failure(() => tt.loadModel(POLICY, { signal: c.signal }));
    expect(load).toBeInstanceOf(tt.AbortError);
    expect(load.cause).toBe(c.signal.reason);
    expect(model.kvStats().pagesInUse).toBe(0);
  });

  it('report a throwing onProgress once and finish the load', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    let calls = 0;
    try {
      const m = await tt.loadModel(POLICY, {
        onProgress: () => {
          calls++;
          throw new Error('progress bar broke');
        },
      });
      expect(m.info.paramCount).toBe(model.info.paramCount);
      m.dispose();
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(calls).toBe(1);
    expect(warnings.map((w) => w.message)).toEqual([
      'thinktree: the `onProgress` callback threw (progress bar broke); it is not called again for this operation',
    ]);
  });

  it('fail searches running while their model is disposed with DisposedError, never a plain Error', async () => {
    const m = await tt.loadModel(POLICY);
    const b = new tt.NativeBackend(m, prm, { formatPrompt: (q) => q });
    const runs = [0, 1, 2].map(() => tt.search('12+7', { backend: b, strategy: 'beam', n: 8 }));
    setTimeout(() => m.dispose(), 20);
    const settled = await Promise.allSettled(runs);
    for (const r of settled) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(tt.DisposedError);
    }
    expect(settled.some((r) => r.status === 'rejected')).toBe(true);
    expect(prm.liveNodes).toBe(0);
  });
});
