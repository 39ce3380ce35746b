// The TPO data side on the shipped demo models: in process (the engine's NativeBackend, K forks of one
// root in shared batches) and over HTTP (RemoteBackend against `thinktree serve` on the same engine).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteBackend } from '../../lib/backends/remote.js';
import { demoModels } from '../../lib/demo-models.js';
import { serve, type ServerHandle } from '../../lib/server/server.js';
import { arithmeticTask } from '../../lib/tasks/arithmetic/index.js';
import { evaluateThoughts } from '../../lib/tpo/evaluate.js';
import { backendPrmJudge, prmJudge } from '../../lib/tpo/judge-prm.js';
import { taskJudge } from '../../lib/tpo/judge-task.js';
import { makePairs } from '../../lib/tpo/make-pairs.js';
import { ANSWER_LINE_PROMPT } from '../../lib/tpo/prompt.js';
import { parsePrompts, type TpoPrompt } from '../../lib/tpo/prompts-file.js';

const file = path.join(demoModels.data, 'test-level-3.jsonl.gz');
const text = gunzipSync(readFileSync(file)).toString('utf8').split('\n').slice(0, 6).join('\n');
const prompts: TpoPrompt[] = parsePrompts(text, file);

let server: ServerHandle;
let remote: RemoteBackend;
beforeAll(async () => {
  server = await serve({ port: 0, threads: 1 });
  remote = await RemoteBackend.create({ baseUrl: server.url, findPrm: true, retries: 0, policyTokenizer: demoModels.policy });
});
afterAll(async () => {
  remote?.dispose();
  await server?.close();
});

describe('TPO on the demo policy', () => {
  it('makes pairs in process whose chosen side is right and rejected side wrong, releasing every page', async () => {
    const backend = server.engine.backend;
    const { pairs, summary } = await makePairs(prompts, { backend, judge: taskJudge(), k: 8, thoughtPrompt: ANSWER_LINE_PROMPT, seed: 7, maxTokens: 300 });
    expect(summary.samples).toBe(48);
    expect(summary.validSamples + Object.values(summary.invalidSamples).reduce((a, b) => a + (b ?? 0), 0)).toBe(48);
    expect(summary.pairs + summary.droppedPrompts.allEqual + summary.droppedPrompts.tooFew).toBe(6);
    expect(summary.pairs).toBeGreaterThan(0);
    for (const p of pairs) {
      const problem = prompts.find((q) => q.id === p.id)!;
      // Graded again here with the task's own checker on the whole output.
      expect(arithmeticTask.isCorrect({ answer: Number(problem.reference) }, p.chosen[0].content)).toBe(true);
      expect(arithmeticTask.isCorrect({ answer: Number(problem.reference) }, p.rejected[0].content)).toBe(false);
      expect(p.chosen[0].content).toBe(`${p.thought_chosen}\n\nThe answer is ${p.response_chosen}`);
    }
    expect(backend.liveNodes).toBe(0);
    expect(server.engine.kvStats().policy.pagesInUse).toBe(0);
  });

  it('evaluates greedily as Model.generate decodes, with and without the thought', async () => {
    const policy = server.engine.policy;
    const backend = server.engine.backend;
    for (const mode of ['thought', 'direct'] as const) {
      const r = await evaluateThoughts(prompts, { backend, judge: taskJudge(), mode, thoughtPrompt: ANSWER_LINE_PROMPT, maxTokens: 300 });
      for (const [i, p] of prompts.entries()) {
        const prompt = policy.chatPrompt([{ role: 'user', content: p.instruction }]) + (mode === 'direct' ? 'The answer is' : '');
        const g = await policy.generate(prompt, { temperature: 0, maxTokens: 300 });
        expect(r.rows[i]!.tokens).toBe(g.tokens.length);
        expect(r.rows[i]!.score).toBe(arithmeticTask.isCorrect({ answer: Number(p.reference) }, mode === 'direct' ? `The answer is${g.text}` : g.text) ? 1 : 0);
      }
      expect(r.levels).toHaveLength(1);
      expect(r.levels[0]!.problems).toBe(6);
    }
  });

  it('gives the same greedy evaluation over HTTP as in process', async () => {
    const local = await evaluateThoughts(prompts, { backend: server.engine.backend, judge: taskJudge(), mode: 'thought', thoughtPrompt: ANSWER_LINE_PROMPT, maxTokens: 300 });
    const over = await evaluateThoughts(prompts, { backend: remote, judge: taskJudge(), mode: 'thought', thoughtPrompt: ANSWER_LINE_PROMPT, maxTokens: 300 });
    expect(over.rows).toEqual(local.rows);
    expect(remote.liveNodes).toBe(0);
  });

  it('makes pairs over HTTP and judges with the served PRM as the in-process PRM does', async () => {
    const { pairs, summary } = await makePairs(prompts.slice(0, 3), { backend: remote, judge: backendPrmJudge(remote), k: 4, thoughtPrompt: ANSWER_LINE_PROMPT, seed: 1, maxTokens: 300 });
    expect(summary.samples).toBe(12);
    expect(remote.liveNodes).toBe(0);
    const items = pairs.flatMap((p) => [p.response_chosen, p.response_rejected].map((response) => ({ instruction: p.instruction, response })));
    expect(items.length).toBeGreaterThan(0);
    const served = await backendPrmJudge(remote).score(items);
    const local = await prmJudge(server.engine.prm!).score(items);
    served.forEach((s, i) => expect(Math.abs(s - local[i]!)).toBeLessThan(1e-4));
    expect(pairs.map((p) => p.score_chosen)).toEqual(pairs.map((_, i) => served[2 * i]));
    const kv = server.engine.kvStats();
    expect([kv.policy.pagesInUse, kv.prm?.pagesInUse]).toEqual([0, 0]);
  });
});
