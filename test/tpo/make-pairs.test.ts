import { describe, expect, it } from 'vitest';
import { OptionError } from '../../lib/errors.js';
import type { JudgeItem, ResponseJudge } from '../../lib/tpo/judge.js';
import { taskJudge } from '../../lib/tpo/judge-task.js';
import { makePairs } from '../../lib/tpo/make-pairs.js';
import { GENERIC_THOUGHT_PROMPT } from '../../lib/tpo/prompt.js';
import type { TpoPrompt } from '../../lib/tpo/prompts-file.js';
import { ScriptedTpoBackend } from './scripted-backend.js';

const M = GENERIC_THOUGHT_PROMPT.marker;
const prompts: TpoPrompt[] = [
  { instruction: 'What is 2 + 3?', reference: '5', id: 'a', level: 1 },
  { instruction: 'What is 4 * 4?', reference: '16', id: 'b', level: 2 },
];

/** Eight outputs per prompt: right, wrong, no marker, two markers, cut at the limit, right, wrong, empty response. */
function script(userTurn: string, _prefix: string, i: number) {
  const right = userTurn.includes('2 + 3') ? '5' : '16';
  const outs = [
    { text: `I add them. ${M} \\boxed{${right}}` },
    { text: `I guess. ${M} \\boxed{7}` },
    { text: 'No marker here \\boxed{1}' },
    { text: `a ${M} b ${M} \\boxed{${right}}` },
    { text: `long ${M} \\boxed{${right}}`, finish: 'length' as const },
    { text: `Checked twice. ${M} \\boxed{${right}}` },
    { text: `Hmm. ${M} \\boxed{99}` },
    { text: `Nothing. ${M}   ` },
  ];
  return outs[i]!;
}

describe('makePairs on a scripted backend', () => {
  it('drops and counts invalid splits, judges the rest and pairs best against worst', async () => {
    const backend = new ScriptedTpoBackend(script);
    const { pairs, summary } = await makePairs(prompts, { backend, judge: taskJudge(), k: 8, seed: 3 });
    expect(backend.liveNodes).toBe(0);
    expect(summary).toMatchObject({
      prompts: 2,
      samples: 16,
      validSamples: 8,
      invalidSamples: { 'missing-marker': 2, 'repeated-marker': 2, truncated: 2, 'empty-response': 2 },
      pairs: 2,
      droppedPrompts: { tooFew: 0, allEqual: 0 },
      meanScore: 0.5,
    });
    expect(summary.scoreMargin).toEqual({ count: 2, mean: 1, min: 1, max: 1 });
    const [a] = pairs;
    expect(a).toMatchObject({
      id: 'a',
      level: 1,
      instruction: 'What is 2 + 3?',
      // The first of the two right answers, against the first of the two wrong ones.
      chosen: [{ role: 'assistant', content: `I add them. ${M} \\boxed{5}` }],
      rejected: [{ role: 'assistant', content: `I guess. ${M} \\boxed{7}` }],
      thought_chosen: 'I add them.',
      response_chosen: '\\boxed{5}',
      thought_rejected: 'I guess.',
      response_rejected: '\\boxed{7}',
      score_chosen: 1,
      score_rejected: 0,
    });
    expect(a!.prompt[0].content.endsWith('User query: What is 2 + 3?')).toBe(true);
  });

  it('samples with the stop list empty (to EOS) and the given settings', async () => {
    const backend = new ScriptedTpoBackend(script);
    await makePairs(prompts.slice(0, 1), { backend, judge: taskJudge(), k: 8, temperature: 0.7, topP: 0.9, maxTokens: 99 });
    expect(backend.samplings).toEqual([{ temperature: 0.7, topP: 0.9, topK: 0, maxTokens: 99, stop: [] }]);
  });

  it('drops a prompt whose valid samples all score the same', async () => {
    const backend = new ScriptedTpoBackend((_u, _p, i) => ({ text: `t${i} ${M} \\boxed{5}` }));
    const { pairs, summary } = await makePairs(prompts.slice(0, 1), { backend, judge: taskJudge(), k: 4 });
    expect(pairs).toEqual([]);
    expect(summary.droppedPrompts).toEqual({ tooFew: 0, allEqual: 1 });
  });

  it('hands the judge the instruction and the response only, never the thought', async () => {
    const seen: JudgeItem[] = [];
    const judge: ResponseJudge = {
      name: 'recording',
      score: async (items) => {
        seen.push(...items);
        return items.map((i) => i.response.length);
      },
    };
    await makePairs(prompts, { backend: new ScriptedTpoBackend(script), judge, k: 8 });
    expect(seen.length).toBe(8);
    for (const item of seen) {
      expect(Object.keys(item).sort()).toEqual(['instruction', 'reference', 'response']);
      expect(item.response).not.toContain(M);
      for (const thought of ['I add them', 'I guess', 'Checked twice', 'Hmm']) expect(JSON.stringify(item)).not.toContain(thought);
    }
  });

  it('gives the same scores and the same pair when only the thoughts change', async () => {
    const withThoughts = (thoughts: string[]) =>
      new ScriptedTpoBackend((u, p, i) => {
        const t = script(u, p, i);
        return { ...t, text: t.text.replace(/^[^$]*?(?= Here is my response:)/u, thoughts[i]!) };
      });
    const judge = taskJudge();
    const a = await makePairs(prompts, { backend: withThoughts(['x', 'y', 'z', 'w', 'v', 'u', 't', 's']), judge, k: 8 });
    const b = await makePairs(prompts, { backend: withThoughts(['a much longer thought', '', 'q', 'r', 'p', 'o', 'n', 'm']), judge, k: 8 });
    expect(b.pairs.map((p) => [p.score_chosen, p.score_rejected, p.response_chosen, p.response_rejected])).toEqual(
      a.pairs.map((p) => [p.score_chosen, p.score_rejected, p.response_chosen, p.response_rejected]),
    );
    expect(a.pairs[0]!.thought_chosen).toBe('x');
    expect(b.pairs[0]!.thought_chosen).toBe('a much longer thought');
  });

  it('ranks by the length-controlled score when a penalty is set', async () => {
    // Two right answers: a long one first, a short one second; one wrong one.
    const backend = new ScriptedTpoBackend((_u, _p, i) => ({ text: [`t ${M} \\boxed{5} ${'because '.repeat(40)}`, `t ${M} \\boxed{5}`, `t ${M} \\boxed{6}`][i]! }));
    const off = await makePairs(prompts.slice(0, 1), { backend, judge: taskJudge(), k: 3 });
    expect(off.pairs[0]!.response_chosen.length).toBeGreaterThan(100);
    const on = await makePairs(prompts.slice(0, 1), { backend, judge: taskJudge(), k: 3, lengthPenalty: 0.5 });
    expect(on.pairs[0]!.response_chosen).toBe('\\boxed{5}');
    expect(on.pairs[0]!.ranked_chosen).toBeGreaterThan(on.pairs[0]!.ranked_rejected);
  });

  it('refuses bad options by name', async () => {
    const backend = new ScriptedTpoBackend(script);
    await expect(makePairs(prompts, { backend, judge: taskJudge(), k: 1 })).rejects.toThrow(/`k`.*got 1/);
    await expect(makePairs(prompts, { backend, judge: taskJudge(), lengthPenalty: -1 })).rejects.toThrow(OptionError);
    await expect(makePairs(prompts, { backend, judge: taskJudge(), kk: 3 } as never)).rejects.toThrow(/kk/);
    await expect(makePairs([{ instruction: 'x', id: 'n' }], { backend, judge: taskJudge() })).rejects.toThrow(/reference answer/);
  });
});

describe('evaluateThoughts on a scripted backend', () => {
  it('judges the response after the marker, and in direct mode starts the answer with the direct prefix', async () => {
    const { evaluateThoughts } = await import('../../lib/tpo/evaluate.js');
    const { ANSWER_LINE_PROMPT } = await import('../../lib/tpo/prompt.js');
    const backend = new ScriptedTpoBackend((_u, prefix) => ({ text: prefix === '' ? '2 + 3 = 5\n\nThe answer is \\boxed{5}.' : ' \\boxed{6}.' }));
    const thought = await evaluateThoughts(prompts.slice(0, 1), { backend, judge: taskJudge(), mode: 'thought', thoughtPrompt: ANSWER_LINE_PROMPT });
    expect(thought.rows).toEqual([{ id: 'a', level: 1, valid: true, score: 1, thoughtChars: 9, responseChars: 10, tokens: 35 }]);
    const direct = await evaluateThoughts(prompts.slice(0, 1), { backend, judge: taskJudge(), mode: 'direct', thoughtPrompt: ANSWER_LINE_PROMPT });
    expect(direct.rows).toEqual([{ id: 'a', level: 1, valid: true, score: 0, thoughtChars: 0, responseChars: 10, tokens: 11 }]);
    expect(backend.samplings.every((s) => s.temperature === 0 && s.topP === 1)).toBe(true);
    expect(backend.liveNodes).toBe(0);
  });

  it('refuses bad options by name', async () => {
    const { evaluateThoughts } = await import('../../lib/tpo/evaluate.js');
    const backend = new ScriptedTpoBackend(() => ({ text: 'x' }));
    await expect(evaluateThoughts(prompts, { backend, judge: taskJudge(), mode: 'both' as never })).rejects.toThrow(/`mode`/);
    await expect(evaluateThoughts(prompts, { backend, judge: taskJudge(), mode: 'thought', concurrency: 0 })).rejects.toThrow(/`concurrency`.*got 0/);
    await expect(evaluateThoughts(prompts, { backend, judge: taskJudge(), mode: 'thought', sed: 1 } as never)).rejects.toThrow(/sed/);
  });
});
