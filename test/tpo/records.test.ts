import { describe, expect, it } from 'vitest';
import { taskJudge } from '../../lib/tpo/judge-task.js';
import { makePairs } from '../../lib/tpo/make-pairs.js';
import { ANSWER_LINE_PROMPT } from '../../lib/tpo/prompt.js';
import { pairRecordProblems, pairsJsonl } from '../../lib/tpo/records.js';
import { ScriptedTpoBackend } from './scripted-backend.js';

async function pairsFileText(): Promise<string> {
  const backend = new ScriptedTpoBackend((_u, _p, i) => ({ text: `1 + 2 = ${i === 0 ? 3 : 4}\n\nThe answer is \\boxed{${i === 0 ? 3 : 4}}.` }));
  const { pairs } = await makePairs(
    [{ instruction: 'Ann has 1 pen and gets 2 more. How many pens?', reference: '3', id: 'p1', level: 1 }, { instruction: 'No level', reference: '3', id: 'p2' }],
    { backend, judge: taskJudge(), k: 2, thoughtPrompt: ANSWER_LINE_PROMPT },
  );
  return pairsJsonl(pairs);
}

describe('the pairs file', () => {
  it("is JSONL in TRL's conversational preference layout, extra columns alongside", async () => {
    const lines = (await pairsFileText()).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(2);
    const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const row of rows) expect(pairRecordProblems(row)).toEqual([]);
    expect(Object.keys(rows[0]!)).toEqual([
      'prompt', 'chosen', 'rejected', 'score_chosen', 'score_rejected', 'ranked_chosen', 'ranked_rejected', 'thought_chosen',
      'thought_rejected', 'response_chosen', 'response_rejected', 'instruction', 'id', 'level',
    ]);
    expect(rows[0]).toMatchObject({
      prompt: [{ role: 'user', content: 'Ann has 1 pen and gets 2 more. How many pens?' }],
      chosen: [{ role: 'assistant', content: '1 + 2 = 3\n\nThe answer is \\boxed{3}.' }],
      rejected: [{ role: 'assistant', content: '1 + 2 = 4\n\nThe answer is \\boxed{4}.' }],
      thought_chosen: '1 + 2 = 3',
      response_chosen: '\\boxed{3}.',
    });
    expect('level' in rows[1]!).toBe(false);
  });

  it('names what is wrong with a malformed line', () => {
    const good = {
      prompt: [{ role: 'user', content: 'q' }], chosen: [{ role: 'assistant', content: 'a' }], rejected: [{ role: 'assistant', content: 'b' }],
      score_chosen: 1, score_rejected: 0, ranked_chosen: 1, ranked_rejected: 0, thought_chosen: '', thought_rejected: '',
      response_chosen: 'a', response_rejected: 'b', instruction: 'q', id: 'x',
    };
    expect(pairRecordProblems(good)).toEqual([]);
    expect(pairRecordProblems({ ...good, chosen: 'a' })).toEqual([expect.stringMatching(/`chosen` must be a list of one message/)]);
    expect(pairRecordProblems({ ...good, prompt: [{ role: 'assistant', content: 'q' }] })).toEqual([expect.stringMatching(/`prompt` must be \[\{"role": "user"/)]);
    expect(pairRecordProblems({ ...good, score_chosen: Number.NaN })).toEqual([expect.stringMatching(/score_chosen/)]);
    expect(pairRecordProblems({ ...good, ranked_chosen: 0 })).toEqual([expect.stringMatching(/greater than/)]);
    expect(pairRecordProblems({ ...good, extra: 1 })).toEqual(['unknown field `extra`']);
    expect(pairRecordProblems([])).toEqual(['a pair must be a JSON object']);
  });
});
