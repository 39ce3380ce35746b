// Search as a model: a chat completion naming a strategy runs that search on the served policy and PRM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChatCompletionChunk, parseChatCompletionResponse } from '../../lib/protocol/chat.js';
import { EVAL_SEARCH_PARAMS } from '../../lib/eval/defaults.js';
import type { ServerHandle } from '../../lib/server/server.js';
import { SEARCH_TREE_FORMAT } from '../../lib/viewer/serialize.js';
import { QUESTION, call, expectAllReleased, sseEvents, startServer } from './helpers.js';

let server: ServerHandle;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const messages = [{ role: 'user', content: QUESTION }];

describe('a chat completion whose model names a search', () => {
  it('answers with the chosen solution of the same search run in-process, and its usage', async () => {
    const r = await call(server, '/v1/chat/completions', { model: 'beam-4', messages, thinktree: { seed: 5 } });
    expect(r.status).toBe(200);
    const res = parseChatCompletionResponse(r.json);
    const ext = r.json.thinktree;
    const local = await server.engine.search(QUESTION, { ...EVAL_SEARCH_PARAMS, strategy: 'beam', n: 4, beamWidth: 4, seed: 5 });
    expect(res.choices[0]!.message.content).toBe(local.completion!.text);
    expect(ext.answer).toBe(local.answer);
    expect(ext.strategy).toBe('beam');
    expect(ext.steps).toEqual(local.completion!.steps);
    const { wallMs: _w, ...usage } = ext.usage;
    const { wallMs: _l, ...localUsage } = local.usage;
    expect(usage).toEqual(localUsage);
    expect(ext.usage.prmTokensScored).toBeGreaterThan(0);
    expect(ext.usage.flops).toBeGreaterThan(0);
    expect(res.usage).toEqual({
      prompt_tokens: local.usage.policyTokensPrefilled,
      completion_tokens: local.usage.policyTokensGenerated,
      total_tokens: local.usage.policyTokensPrefilled + local.usage.policyTokensGenerated,
    });
    expect(ext.tree).toBeUndefined();
    expectAllReleased(server);
  });

  it('returns the search tree as search-tree v1 JSON when asked', async () => {
    const r = await call(server, '/v1/chat/completions', { model: 'dvts-4', messages, thinktree: { tree: true, beamWidth: 2 } });
    expect(r.status).toBe(200);
    const tree = r.json.thinktree.tree;
    expect(tree.format).toBe(SEARCH_TREE_FORMAT);
    expect(tree.question).toBe(QUESTION);
    expect(tree.options.strategy).toBe('dvts');
    expect(tree.options.beamWidth).toBe(2);
    expect(tree.nodes.length).toBeGreaterThan(4);
  });

  it('runs a search named only in the thinktree field on the policy model', async () => {
    const r = await call(server, '/v1/chat/completions', { model: 'policy', messages, thinktree: { strategy: 'best-of-n', n: 3 } });
    expect(r.status).toBe(200);
    expect(r.json.thinktree.strategy).toBe('best-of-n');
    expect(r.json.thinktree.usage.generations).toBe(3);
  });

  it.each(['majority-4', 'weighted-best-of-n-4', 'lookahead-4', 'mcts-4', 'revisions-4', 'compute-optimal-8'])('runs %s', async (model) => {
    const r = await call(server, '/v1/chat/completions', { model, messages });
    expect(r.status).toBe(200);
    expect(r.json.thinktree.strategy).toBe(model.replace(/-\d+$/, ''));
    expect(typeof r.json.choices[0].message.content).toBe('string');
  });

  it('streams progress events, then the answer, then [DONE]', async () => {
    const r = await call(server, '/v1/chat/completions', { model: 'beam-4', messages, stream: true, stream_options: { include_usage: true } });
    const events = sseEvents(r.text);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    for (const c of chunks) parseChatCompletionChunk(c);
    const progress = chunks.filter((c) => c.thinktree?.progress).map((c) => c.thinktree.progress);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.map((p) => p.stepsDone)).toEqual([...progress.map((p) => p.stepsDone)].sort((a, b) => a - b));
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    const last = chunks.at(-1);
    expect(last.choices[0].finish_reason).toBe('stop');
    expect(last.usage.completion_tokens).toBe(last.thinktree.usage.policyTokensGenerated);
    expect(content).toBe([...last.thinktree.steps].join(''));
    expectAllReleased(server);
  });
});
