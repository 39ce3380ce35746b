import { describe, expect, it } from 'vitest';
import type { EvalRecord } from '../../lib/eval/dataset.js';
import { buildPlan } from '../../lib/eval/plan.js';
import { runPool } from '../../lib/eval/pool.js';
import { runEval, type EvalProgress } from '../../lib/eval/runner.js';
import { defineTask } from '../../lib/tasks/math/task.js';
import { FakeSearcher } from './fake-searcher.js';

const records: EvalRecord[] = [
  { problem: 'q0', answer: '10', level: 1, uniqueId: 'u0' },
  { problem: 'q1', answer: '11', level: 2, uniqueId: 'u1' },
  { problem: 'q2', answer: '12', level: 2, uniqueId: 'u2' },
];
const plan = buildPlan({ strategies: ['majority'], budgets: [1, 4], hasPrm: false });
// Right on q0 and q2 at every budget; the usage is a function of the budget so rows can be checked.
const fake = () =>
  new FakeSearcher((q, o) => ({
    answer: q === 'q1' ? '99' : String(10 + Number(q.slice(1))),
    policyTokens: 10 * o.n,
    prmTokens: o.n,
    flops: 1000 * o.n,
  }));

describe('runEval', () => {
  it('answers every problem under every configuration, in configuration-major order', async () => {
    const results = await runEval(fake(), records, { configs: plan.configs });
    expect(results.map((r) => [r.strategy, r.budget, r.uniqueId])).toEqual([
      ['greedy', 1, 'u0'], ['greedy', 1, 'u1'], ['greedy', 1, 'u2'],
      ['majority', 1, 'u0'], ['majority', 1, 'u1'], ['majority', 1, 'u2'],
      ['majority', 4, 'u0'], ['majority', 4, 'u1'], ['majority', 4, 'u2'],
    ]);
  });

  it('grades the answer against the reference', async () => {
    const results = await runEval(fake(), records, { configs: plan.configs });
    expect(results.filter((r) => r.budget === 4).map((r) => r.correct)).toEqual([true, false, true]);
  });

  it('grades with the task it is given', async () => {
    const task = defineTask({ answersEqual: (a, b) => a.length === b.length });
    const results = await runEval(fake(), records, { configs: plan.configs.slice(0, 1), task });
    expect(results.map((r) => r.correct)).toEqual([true, true, true]);
  });

  it('counts policy tokens generated plus PRM tokens scored, and the search\'s flops', async () => {
    const results = await runEval(fake(), records, { configs: plan.configs });
    const r = results.find((x) => x.strategy === 'majority' && x.budget === 4)!;
    expect(r.tokens).toBe(44);
    expect(r.flops).toBe(4000);
  });

  it('gives problem i the seed base + i under every configuration', async () => {
    const s = fake();
    await runEval(s, records, { configs: plan.configs, seed: 50 });
    for (const call of s.calls) expect(call.options.seed).toBe(50 + Number(call.question.slice(1)));
  });

  it('runs greedy at temperature 0 with one sample, over the shared temperature', async () => {
    const s = fake();
    await runEval(s, records, { configs: plan.configs, params: { temperature: 0.7, maxStepTokens: 9 } });
    const greedy = s.calls.filter((c) => c.options.n === 1 && c.options.temperature === 0);
    expect(greedy).toHaveLength(3);
    expect(s.calls.filter((c) => c.options.temperature === 0.7)).toHaveLength(6);
    expect(s.calls.every((c) => c.options.maxStepTokens === 9 && c.options.strategy === 'majority')).toBe(true);
  });

  it('keeps at most `concurrency` searches in flight, and uses that many', async () => {
    const s = fake();
    await runEval(s, records, { configs: plan.configs, concurrency: 4 });
    expect(s.maxInFlight).toBe(4);
  });

  it('reports progress in budget units up to the total', async () => {
    const events: EvalProgress[] = [];
    await runEval(fake(), records, { configs: plan.configs, onProgress: (e) => events.push(e) });
    expect(events).toHaveLength(9);
    expect(events.at(-1)).toMatchObject({ done: 9, total: 9, work: 18, totalWork: 18 });
    expect(events.map((e) => e.work)).toEqual([...events.map((e) => e.work)].sort((a, b) => a - b));
  });

  it('rethrows the first failure after the searches in flight have settled, starting no new one', async () => {
    let settled = 0;
    const s = new FakeSearcher(async (q, o) => {
      if (q === 'q1' && o.n === 1) throw new Error('boom');
      await new Promise((r) => setTimeout(r, 5));
      settled++;
      return { answer: null };
    });
    await expect(runEval(s, records, { configs: plan.configs, concurrency: 2 })).rejects.toThrow('boom');
    expect(s.inFlight).toBe(0);
    expect(s.calls.length).toBeLessThan(9);
    expect(settled).toBe(s.calls.length - 1);
  });

  it('passes an aborting signal to searches still running when one fails', async () => {
    const seen: AbortSignal[] = [];
    const s = new FakeSearcher(async (q, o) => {
      seen.push(o.signal!);
      if (q === 'q0') throw new Error('first');
      await new Promise((r) => setTimeout(r, 10));
      return { answer: null };
    });
    await expect(runEval(s, records, { configs: plan.configs, concurrency: 3 })).rejects.toThrow('first');
    expect(seen.every((sig) => sig.aborted)).toBe(true);
  });
});

describe('runPool', () => {
  it('returns results in job order whatever order they finish in', async () => {
    const out = await runPool(5, 3, async (i) => {
      await new Promise((r) => setTimeout(r, (5 - i) * 2));
      return i * i;
    });
    expect(out).toEqual([0, 1, 4, 9, 16]);
  });

  it('rejects with the caller\'s abort reason', async () => {
    const controller = new AbortController();
    const run = runPool(10, 2, async (i) => {
      if (i === 1) controller.abort(new Error('stop'));
      await new Promise((r) => setTimeout(r, 1));
      return i;
    }, controller.signal);
    await expect(run).rejects.toThrow('stop');
  });
});
