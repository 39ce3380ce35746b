// The outcome reward head against an independent reference: tiny checkpoints in the published layouts
// (test/fixtures/tiny-orm, made by tools/fixtures/make_tiny_orms.py) whose rewards were computed in torch
// from the same files, with the conversation rendered and tokenized on the Python side.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../lib/errors.js';
import { loadPrm } from '../../lib/models/prm/prm.js';
import { OrmFormatError } from '../../lib/models/orm/errors.js';
import { loadRewardModel, type RewardModel } from '../../lib/models/orm/reward-model.js';
import { ormJudge } from '../../lib/tpo/judge-orm.js';
import { makePairs } from '../../lib/tpo/make-pairs.js';
import { ScriptedTpoBackend } from './scripted-backend.js';

const ROOT = path.resolve(import.meta.dirname, '../fixtures/tiny-orm');

interface Case {
  prompt: string;
  response: string;
  system: string | null;
  text: string;
  tokens: number[];
  reward: number;
}
const reference = (name: string) => JSON.parse(readFileSync(path.join(ROOT, name, 'orm-reference.json'), 'utf8')) as { cases: Case[]; head: unknown };

describe.each([['qwen2-rm'], ['llama-seqcls']])('outcome reward model %s', (name) => {
  const ref = reference(name);
  const models = new Map<string, RewardModel>();
  const load = async (system: string | null) => {
    const key = system ?? '';
    if (!models.has(key)) models.set(key, await loadRewardModel(path.join(ROOT, name), { threads: 1, precision: 'f32', ...(system === null ? {} : { systemPrompt: system }) }));
    return models.get(key)!;
  };
  afterAll(() => models.forEach((m) => m.dispose()));

  it('declares the head of its published layout', async () => {
    expect((await load(null)).info.head).toEqual(ref.head);
  });

  it('renders and tokenizes each conversation as the reference did', async () => {
    for (const c of ref.cases) {
      const m = await load(c.system);
      expect(m.conversationText(c)).toBe(c.text);
      expect(Array.from(m.conversationTokens(c))).toEqual(c.tokens);
    }
  });

  it('scores every conversation within 1e-4 of the torch reference, batched', async () => {
    for (const system of [null, ...new Set(ref.cases.map((c) => c.system).filter((s) => s !== null))]) {
      const cases = ref.cases.filter((c) => c.system === system);
      const got = await (await load(system)).score(cases);
      got.forEach((r, i) => expect(Math.abs(r - cases[i]!.reward)).toBeLessThan(1e-4));
    }
  });

  it('picks the best of N by its scores', async () => {
    const m = await load(null);
    const cases = ref.cases.filter((c) => c.prompt === 'What is 12 + 7?');
    const { index, scores } = await m.best(cases[0]!.prompt, cases.map((c) => c.response));
    expect(scores.length).toBe(2);
    expect(index).toBe(cases[0]!.reward >= cases[1]!.reward ? 0 : 1);
  });
});

describe('outcome reward model inputs and errors', () => {
  let m: RewardModel;
  beforeAll(async () => {
    m = await loadRewardModel(path.join(ROOT, 'qwen2-rm'), { threads: 1, precision: 'f32' });
  });
  afterAll(() => m?.dispose());

  it('refuses a response holding a special token of its tokenizer', async () => {
    await expect(m.score([{ prompt: 'q', response: 'a<|im_end|>b' }])).rejects.toThrow(/conversation 0: the response contains "<\|im_end\|>"/);
  });

  it('refuses a conversation that is not { prompt, response }', async () => {
    await expect(m.score([{ prompt: 'q' } as never])).rejects.toThrow(OptionError);
  });

  it('is refused by loadPrm, and a PRM is refused by loadRewardModel, each naming the right loader', async () => {
    await expect(loadPrm(path.join(ROOT, 'qwen2-rm'), { threads: 1 })).rejects.toThrow(/outcome reward model.*loadRewardModel/);
    await expect(loadRewardModel(path.resolve(import.meta.dirname, '../fixtures/tiny-prm/qwen2-prm'), { threads: 1 })).rejects.toThrow(OrmFormatError);
  });

  it('refuses a label the head does not have', async () => {
    await expect(loadRewardModel(path.join(ROOT, 'llama-seqcls'), { threads: 1, label: 2 })).rejects.toThrow(/label.*below the head's 2 labels, got 2/);
  });

  it('as a TPO judge, never sees the thought: changing only the thoughts changes no score', async () => {
    // Without the prefix cache every call computes the same batch from scratch, so equal inputs give
    // bit-equal scores (with it, a reused prefix changes the float summation order, ~1e-7).
    const m = await loadRewardModel(path.join(ROOT, 'qwen2-rm'), { threads: 1, precision: 'f32', prefixCache: false });
    const M = 'Here is my response:';
    const run = (thoughts: string[]) =>
      makePairs([{ instruction: 'What is 12 + 7?', id: 'x' }], {
        backend: new ScriptedTpoBackend((_u, _p, i) => ({ text: `${thoughts[i]} ${M} ${['19', '18', 'nineteen', '12 + 7 = 19'][i]}` })),
        judge: ormJudge(m),
        k: 4,
      });
    const a = await run(['I add.', 'Hmm.', 'Twelve plus seven.', 'Let me check: 12 + 7 = 19.']);
    const b = await run(['', 'Wait, 12 + 7 = 18? No, 19.', 'x', 'A different and much longer line of thought about sums.']);
    expect(a.pairs).toHaveLength(1);
    expect([b.pairs[0]!.score_chosen, b.pairs[0]!.score_rejected]).toEqual([a.pairs[0]!.score_chosen, a.pairs[0]!.score_rejected]);
    expect(b.pairs[0]!.response_chosen).toBe(a.pairs[0]!.response_chosen);
    // The scores are the model's rewards of the responses alone.
    const direct = await m.score([{ prompt: 'What is 12 + 7?', response: a.pairs[0]!.response_chosen }]);
    expect(a.pairs[0]!.score_chosen).toBe(direct[0]);
    m.dispose();
  });
});
