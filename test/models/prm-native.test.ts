// PRM scoring on the native runtime: rewards against the independent PyTorch reference, incremental
// tree scoring against from-scratch scoring, KV page accounting, and errors for dead nodes. Needs the
// native model runtime (loadModel with reward heads and truncate); skipped, with the reason, without it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisposedError, OptionError } from '../../lib/errors.js';
import { nativeAddon } from '../../lib/native/load.js';
import { PrmNodeError } from '../../lib/models/prm/errors.js';
import type { PrmFormatName } from '../../lib/models/prm/format.js';
import { loadPrm, type Prm, type PrmNodeId } from '../../lib/models/prm/prm.js';
import { fixtureDir, readReference, type PrmFixture } from './prm-fixtures.js';

const nativeReady = (() => {
  try {
    return typeof nativeAddon().loadModel === 'function';
  } catch {
    return false;
  }
})();
const why = nativeReady ? '' : ' [skipped: the native addon has no loadModel yet]';

const REFERENCE_TOL = 1e-4;
const INCREMENTAL_TOL = 1e-5;

/** Every format a fixture is scored with: the math-shepherd model also serves the RLHFlow layout. */
const LOADS: Array<[PrmFixture, PrmFormatName]> = [
  ['qwen2-prm', 'qwen2.5-math-prm'],
  ['math-shepherd', 'math-shepherd'],
  ['math-shepherd', 'rlhflow'],
  ['value-head', 'value-head'],
];

// Steps that move token boundaries when joined (leading spaces and newlines, digits after digits).
const STEPS = ['Step 1: Tom has 3 apples.\n\n', '\nStep 2: 12', '34 = 1234\n\n', '  spaced start\n\n', '\n\n\nnewlines first', '5', '6 more\n\n', ' so 2π ≈ 6.28 😀\n\n', 'The answer is 8.'];
const QUESTIONS = ['Tom has 3 apples and buys 5 more. How many?', '  What is 12 + 7?\n'];

const load = (fixture: PrmFixture, format: PrmFormatName) =>
  loadPrm(fixtureDir(fixture), { format, precision: 'f32', threads: 2, kvCacheBytes: 8 << 20, pageTokens: 8 });

/** Deterministic PRNG (mulberry32) for the random trees. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.skipIf(!nativeReady)(`PRM scoring on the native runtime${why}`, () => {
  const prms = new Map<PrmFormatName, Prm>();
  beforeAll(async () => {
    for (const [fixture, format] of LOADS) prms.set(format, await load(fixture, format));
  });
  afterAll(() => {
    for (const prm of prms.values()) prm.dispose();
  });

  describe.each(['qwen2-prm', 'math-shepherd', 'value-head'] as const)('%s', (fixture) => {
    const ref = readReference(fixture);
    const formatOf = LOADS.find(([f]) => f === fixture)![1];

    it('scoreIds matches the PyTorch reference at raw ids and positions', async () => {
      const prm = prms.get(formatOf)!;
      for (const c of ref.ids) {
        const got = await prm.scoreIds(c.ids, c.positions);
        expect(got).toHaveLength(c.rewards.length);
        got.forEach((r, i) => expect(Math.abs(r - c.rewards[i])).toBeLessThanOrEqual(REFERENCE_TOL));
      }
    });

    it('scoreAt matches the PyTorch reference, for all inputs at once and again through the prefix cache', async () => {
      const prm = prms.get(formatOf)!;
      const ordered = ref.ids.map((c) => {
        const order = c.positions.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
        return { ids: c.ids, positions: order.map(([p]) => p), rewards: order.map(([, i]) => c.rewards[i]!) };
      });
      for (let pass = 0; pass < 2; pass++) {
        const got = await prm.scoreAt(ordered.map((c) => c.ids), ordered.map((c) => c.positions));
        got.rewards.forEach((rs, k) => rs.forEach((r, i) => expect(Math.abs(r - ordered[k]!.rewards[i]!)).toBeLessThanOrEqual(REFERENCE_TOL)));
      }
      await expect(prm.scoreAt([[1, 2, 3]], [[2, 1]])).rejects.toThrow(/position 1 \(index 1\) is not ascending/);
      await expect(prm.scoreAt([[1, 2, 3]], [])).rejects.toThrow(OptionError);
    });

    it.each(ref.cases.map((c, i) => ({ i, c })))('scoreSteps matches the PyTorch reference ($c.format case $i)', async ({ c }) => {
      const got = await prms.get(c.format)!.scoreSteps(c.question, c.steps);
      expect(got).toHaveLength(c.rewards.length);
      got.forEach((r, i) => expect(Math.abs(r - c.rewards[i])).toBeLessThanOrEqual(REFERENCE_TOL));
    });
  });

  describe.each(LOADS.map(([, format]) => format))('%s tree', (format) => {
    it('scores random trees incrementally exactly as from scratch, then returns every page', async () => {
      const prm = prms.get(format)!;
      const next = random(format.length * 7919);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
      for (const question of QUESTIONS) {
        const root = await prm.root(question);
        const paths = new Map<PrmNodeId, string[]>([[root, []]]);
        let live: PrmNodeId[] = [root];
        for (let round = 0; round < 5; round++) {
          // Fork a few nodes (some twice), and score some of the old nodes in place as well.
          const parents = Array.from({ length: 1 + Math.floor(next() * 4) }, () => pick(live));
          const children = await prm.fork(parents);
          children.forEach((c, i) => paths.set(c, [...paths.get(parents[i])!]));
          const inPlace = live.filter(() => next() < 0.3);
          const batch = [...children, ...inPlace];
          const steps = batch.map(() => pick(STEPS));
          const { rewards, tokens } = await prm.score(batch, steps);
          for (let i = 0; i < batch.length; i++) {
            const path = paths.get(batch[i])!;
            path.push(steps[i]);
            const full = await prm.scoreSteps(question, path);
            expect(Math.abs(rewards[i] - full[full.length - 1])).toBeLessThanOrEqual(INCREMENTAL_TOL);
            expect(Array.from(prm.nodeTokens(batch[i]))).toEqual(
              Array.from(prm.tokenizer.encode(prm.nodeText(batch[i]), { addSpecialTokens: prm.format.layout.addSpecialTokens })),
            );
            expect(tokens[i]).toBeGreaterThan(0);
          }
          live = [...live, ...children];
          const dropped = live.filter(() => next() < 0.25);
          if (dropped.length < live.length) {
            await prm.release(dropped);
            live = live.filter((n) => !dropped.includes(n));
          }
        }
        await prm.release(live);
      }
      expect(prm.liveNodes).toBe(0);
      expect(prm.kvStats()).toMatchObject({ pagesInUse: 0, sequences: 0 });
    });
  });

  it('a child runs only its own step tokens: the question is prefilled once at the root', async () => {
    const prm = prms.get('qwen2.5-math-prm')!;
    const root = await prm.root(QUESTIONS[0]);
    const rootTokens = prm.nodeTokens(root).length;
    const [a, b] = await prm.fork([root, root]);
    const { tokens } = await prm.score([a, b], ['Step 1: Tom has 3 apples.\n\n', 'Step 1: 3 + 5 = 8.\n\n']);
    expect(tokens).toEqual([prm.nodeTokens(a).length - rootTokens, prm.nodeTokens(b).length - rootTokens]);
    await prm.release([root, a, b]);
  });

  it('returns every KV page once all nodes of a tree are released', async () => {
    const prm = prms.get('math-shepherd')!;
    const before = prm.kvStats();
    const root = await prm.root(QUESTIONS[0]);
    const kids = await prm.fork([root, root, root]);
    await prm.score(kids, ['Step 1: a.\n\n', 'Step 1: b.\n\n', 'Step 1: c.\n\n']);
    const grandkids = await prm.fork([kids[0], kids[0]]);
    await prm.score(grandkids, ['Step 2: d.\n\n', '\nStep 2: e']);
    expect(prm.kvStats().pagesInUse).toBeGreaterThan(before.pagesInUse);
    await prm.release([root, ...kids, ...grandkids]);
    // Page ownership is back where it was (the prefix cache may now hold more released pages: free ones).
    const { pagesInUse, pagesFree, sequences } = before;
    expect(prm.kvStats()).toMatchObject({ pagesInUse, pagesFree, sequences });
  });

  it('rejects scoring a released node without touching the pool', async () => {
    const prm = prms.get('value-head')!;
    const root = await prm.root(QUESTIONS[0]);
    const [child] = await prm.fork([root]);
    await prm.release([child]);
    const before = prm.kvStats();
    await expect(prm.score([root, child], ['Step 1: x.\n\n', 'Step 1: y.\n\n'])).rejects.toThrow(PrmNodeError);
    expect(prm.kvStats()).toEqual(before);
    await prm.release([root]);
    expect(prm.kvStats()).toMatchObject({ pagesInUse: 0, sequences: 0 });
  });

  it('rejects a step holding the separator, naming the step, before any native work', async () => {
    const prm = prms.get('qwen2.5-math-prm')!;
    const root = await prm.root(QUESTIONS[0]);
    const [a, b] = await prm.fork([root, root]);
    const before = prm.kvStats();
    await expect(prm.score([a, b], ['fine', 'x<extra_0>y'])).rejects.toThrow(
      new OptionError('step 1 contains "<extra_0>", which the qwen2.5-math-prm format uses to mark steps'),
    );
    expect(prm.kvStats()).toEqual(before);
    await prm.release([root, a, b]);
  });

  it('rejects an empty step list in scoreSteps', async () => {
    await expect(prms.get('value-head')!.scoreSteps('Q', [])).rejects.toThrow(new OptionError('scoreSteps needs at least one step'));
  });

  it('throws DisposedError after dispose', async () => {
    const prm = await load('value-head', 'value-head');
    prm.dispose();
    prm.dispose();
    await expect(prm.root('Q')).rejects.toThrow(DisposedError);
  });

  it('names dispose, not a released node, for a node used after dispose', async () => {
    const prm = await load('value-head', 'value-head');
    const root = await prm.root('Q');
    prm.dispose();
    expect(() => prm.nodeTokens(root)).toThrow(DisposedError);
    expect(() => prm.nodeText(root)).toThrow(DisposedError);
    await expect(prm.fork([root])).rejects.toThrow(DisposedError);
  });
});
