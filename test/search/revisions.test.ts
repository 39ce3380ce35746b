import { describe, expect, it } from 'vitest';
import { search } from '../../lib/search/search.js';
import { mathTask } from '../../lib/tasks/math/task.js';
import { ScriptedBackend, treeScript } from './scripted-backend.js';

const Q = 'revise me';
const script = () => treeScript({ depth: 2, answers: [{ answer: '6', p: 0.5 }, { answer: '7', p: 0.5 }] });
const run = async () => {
  const backend = new ScriptedBackend(script());
  const r = await search(Q, { backend, strategy: 'revisions', n: 6, revisionsPerChain: 3 });
  return { backend, r };
};

describe('sequential revisions', () => {
  it('splits n attempts into n / revisionsPerChain chains', async () => {
    const { r } = await run();
    expect(r.candidates).toHaveLength(6);
    expect(r.usage.generations).toBe(6);
    expect(r.details).toEqual({ kind: 'revisions', chains: 2, revisionsPerChain: 3 });
    const prompts = r.tree.filter((n) => n.kind === 'prompt');
    expect(prompts.map((p) => p.group).sort()).toEqual([0, 0, 1, 1]);
  });

  it('appends the revision prompt after each attempt, with every earlier attempt of the chain in context', async () => {
    const { backend, r } = await run();
    expect(backend.appended).toHaveLength(4);
    const contexts: string[][] = [];
    for (const a of backend.appended) {
      expect(a.text).toBe(mathTask.revisionPrompt);
      // The context before this prompt: attempt texts separated by earlier prompts.
      const attempts = a.view.segments
        .map((s) => (s.kind === 'append' ? '\u0000' : s.text))
        .join('')
        .split('\u0000')
        .filter((t) => t.length > 0);
      const known = r.candidates.map((c) => c.text);
      expect(attempts.length).toBeGreaterThanOrEqual(1);
      for (const t of attempts) expect(known).toContain(t);
      contexts.push(attempts);
    }
    // Chains of 3 attempts: the second revision sees both earlier attempts, the first of them being
    // what the first revision saw.
    expect(contexts.map((c) => c.length).sort()).toEqual([1, 1, 2, 2]);
    const firsts = contexts.filter((c) => c.length === 1).map((c) => c[0]);
    for (const c of contexts.filter((x) => x.length === 2)) expect(firsts).toContain(c[0]);
    // A revision's first step is generated with the chain's previous attempts visible.
    const revisionSteps = backend.generated.filter((g) => g.view.segments.some((s) => s.kind === 'append') && g.view.attempt.length === 0);
    expect(revisionSteps).toHaveLength(4);
  });

  it('reuses the attempts\u2019 KV: one prompt prefill, revisions only prefill their prompt', async () => {
    const { backend, r } = await run();
    expect(backend.calls.createRoot).toBe(1);
    expect(r.usage.policyTokensPrefilled).toBe(Q.length + 4 * mathTask.revisionPrompt.length);
    // Each prompt node branches the last step of the previous attempt.
    for (const p of r.tree.filter((n) => n.kind === 'prompt')) {
      const parent = r.tree[p.parent!]!;
      expect(parent.kind).toBe('step');
      expect(parent.finish).toBe('eos');
    }
    expect(backend.live.size).toBe(0);
  });

  it('the PRM judges each attempt as a fresh solution', async () => {
    const { backend, r } = await run();
    // Never more than one attempt's steps (2 steps + the final one) in a PRM context.
    expect(Math.max(...backend.scoredLog.map((s) => s.scored.length))).toBe(3);
    for (const c of r.candidates) expect(c.stepScores).toEqual(c.steps.map((_, i) => script().reward(Q, c.steps.slice(0, i + 1))));
  });

  it('majority selection needs no PRM', async () => {
    const backend = new ScriptedBackend(script(), { prm: false });
    const r = await search(Q, { backend, strategy: 'revisions', n: 4, revisionSelect: 'majority' });
    expect(backend.calls.score).toBe(0);
    expect(r.candidates).toHaveLength(4);
  });
});
