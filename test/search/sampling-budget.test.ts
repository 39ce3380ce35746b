import { describe, expect, it } from 'vitest';
import { search } from '../../lib/search/search.js';
import type { ProgressEvent } from '../../lib/search/types.js';
import { ScriptedBackend, treeScript } from './scripted-backend.js';

const script = () => treeScript({ depth: 3, answers: [{ answer: '1', p: 0.5 }, { answer: '2', p: 0.5 }] });
const Q = 'What is 1+1?';

describe('parallel sampling', () => {
  it('best-of-n draws exactly n independent solutions and charges n generations', async () => {
    const backend = new ScriptedBackend(script());
    const r = await search(Q, { backend, strategy: 'best-of-n', n: 6 });
    expect(r.usage.generations).toBe(6);
    expect(r.candidates).toHaveLength(6);
    // Each sample is one branch of the root, kept apart as its own group in the tree.
    const rootBranches = r.tree.filter((n) => n.parent === 0);
    expect(rootBranches).toHaveLength(6);
    expect(new Set(r.tree.filter((n) => n.kind === 'step').map((n) => n.group)).size).toBe(6);
    expect(backend.live.size).toBe(0);
  });

  it('best-of-n answers with the single highest aggregated score', async () => {
    const backend = new ScriptedBackend(script());
    const r = await search(Q, { backend, strategy: 'best-of-n', n: 8 });
    const best = r.candidates.reduce((a, b) => (b.stepScores.at(-1)! > a.stepScores.at(-1)! ? b : a));
    expect(r.completion?.text).toBe(best.text);
    expect(r.completion?.score).toBe(best.stepScores.at(-1));
  });

  it('majority voting needs no PRM and never scores', async () => {
    const backend = new ScriptedBackend(script(), { prm: false });
    const r = await search(Q, { backend, strategy: 'majority', n: 7 });
    expect(backend.calls.score).toBe(0);
    const counts = new Map<string, number>();
    for (const c of r.candidates) counts.set(c.answer!, (counts.get(c.answer!) ?? 0) + 1);
    const top = Math.max(...counts.values());
    expect(counts.get(r.answer!)).toBe(top);
    expect(r.candidates.every((c) => c.aggregatedScore === null)).toBe(true);
  });

  it('the same seed gives the same search and another seed a different one', async () => {
    const run = (seed: number) =>
      search(Q, { backend: new ScriptedBackend(script()), strategy: 'best-of-n', n: 8, seed }).then((r) =>
        r.candidates.map((c) => c.text),
      );
    expect(await run(7)).toEqual(await run(7));
    expect(await run(7)).not.toEqual(await run(8));
  });
});

describe('budgets', () => {
  it('a token cap is never exceeded and stops the search', async () => {
    const backend = new ScriptedBackend(script());
    const r = await search(Q, { backend, strategy: 'beam', n: 8, beamWidth: 2, tokenCap: 100 });
    expect(r.stopReason).toBe('token-cap');
    expect(backend.tokensGenerated).toBe(r.usage.policyTokensGenerated);
    expect(r.usage.policyTokensGenerated).toBeLessThanOrEqual(100);
    // Uncapped, this search generates far more.
    const free = await search(Q, { backend: new ScriptedBackend(script()), strategy: 'beam', n: 8, beamWidth: 2 });
    expect(free.usage.policyTokensGenerated).toBeGreaterThan(100);
    expect(free.stopReason).toBe('done');
    expect(backend.live.size).toBe(0);
  });

  it('each generate call is limited to the share of the token cap left for its batch', async () => {
    const backend = new ScriptedBackend(script());
    await search(Q, { backend, strategy: 'best-of-n', n: 4, tokenCap: 50 });
    let used = 0;
    for (const c of backend.generateCalls) {
      expect(c.sampling.maxTokens).toBeLessThanOrEqual(Math.floor((50 - used) / c.nodes));
      used += c.tokens;
    }
    expect(used).toBeLessThanOrEqual(50);
  });

  it('maxSolutionTokens ends a solution at its limit', async () => {
    const backend = new ScriptedBackend(script());
    const r = await search(Q, { backend, strategy: 'best-of-n', n: 4, maxSolutionTokens: 12 });
    for (const c of r.candidates) expect(c.steps.join('').length).toBeLessThanOrEqual(12);
    expect(r.stopReason).toBe('done');
  });

  it('the last allowed iteration generates to the end of the solution', async () => {
    const backend = new ScriptedBackend(script());
    const r = await search(Q, { backend, strategy: 'best-of-n', n: 3, maxIterations: 2 });
    const last = backend.generated.filter((g) => g.view.attempt.length === 1);
    expect(last.every((g) => g.sampling.stop.length === 0)).toBe(true);
    expect(r.candidates.every((c) => c.steps.length === 2 && c.answer !== null)).toBe(true);
  });
});

describe('accounting', () => {
  it('counts tokens and FLOPs from what the backend reports', async () => {
    const backend = new ScriptedBackend(script());
    const r = await search(Q, { backend, strategy: 'weighted-best-of-n', n: 5 });
    const { policyParams: P, prmParams: R, policyAttentionWidth: W, prmAttentionWidth: V } = backend.info;
    const flops = (params: number, width: number, t: number, ctx: number) => {
      let pairs = 0;
      for (let i = 0; i < t; i++) pairs += ctx + i + 1;
      return 2 * params * t + 4 * width * pairs;
    };
    let want = flops(P, W, Q.length, 0) + flops(R, V, Q.length, 0);
    let generated = 0;
    for (const g of backend.generated) {
      const ctx = Q.length + g.view.segments.reduce((a, s) => a + s.text.length, 0);
      want += flops(P, W, g.step.tokens, ctx);
      generated += g.step.tokens;
    }
    let scored = Q.length;
    for (const s of backend.scoredLog) {
      const before = s.scored.slice(0, -1).reduce((a, t) => a + t.length, Q.length);
      want += flops(R, V, s.scored.at(-1)!.length, before);
      scored += s.scored.at(-1)!.length;
    }
    expect(r.usage.policyTokensGenerated).toBe(generated);
    expect(r.usage.policyTokensPrefilled).toBe(Q.length);
    expect(r.usage.prmTokensScored).toBe(scored);
    expect(r.usage.policySteps).toBe(backend.generated.length);
    expect(r.usage.flops).toBeCloseTo(want, 0);
    expect(r.usage.wallMs).toBeGreaterThanOrEqual(0);
  });

  it('reports progress after every batch with running totals', async () => {
    const events: ProgressEvent[] = [];
    const backend = new ScriptedBackend(script());
    const r = await search(Q, { backend, strategy: 'beam', n: 4, beamWidth: 2, onProgress: (e) => events.push(e) });
    expect(events.length).toBe(backend.calls.generate);
    expect(events.at(-1)!.stepsDone).toBe(r.usage.policySteps);
    expect(events.at(-1)!.policyTokensGenerated).toBe(r.usage.policyTokensGenerated);
    for (let i = 1; i < events.length; i++) expect(events[i]!.stepsDone).toBeGreaterThan(events[i - 1]!.stepsDone);
    expect(events.every((e) => e.strategy === 'beam' && e.tokensPerSecond >= 0)).toBe(true);
  });
});
