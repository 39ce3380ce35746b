// Each endpoint of `thinktree serve` against the shipped demo models, its answers checked with the
// protocol layer's own parsers (the shapes vLLM sends).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChatCompletionChunk, parseChatCompletionResponse } from '../../lib/protocol/chat.js';
import { parseCompletionResponse } from '../../lib/protocol/completions.js';
import { parseModelList } from '../../lib/protocol/models.js';
import { parsePoolingResponse, stepRows } from '../../lib/protocol/pooling.js';
import type { ServerHandle } from '../../lib/server/server.js';
import { QUESTION, call, expectAllReleased, sseEvents, startServer } from './helpers.js';

let server: ServerHandle;
/** The question in the policy's chat template, as a completions prompt. */
let chatText: string;
beforeAll(async () => {
  // Four-token decode rounds, so a short answer streams in several chunks.
  server = await startServer({ chunkTokens: 4 });
  chatText = server.engine.policy.chatPrompt([{ role: 'user', content: QUESTION }]);
});
afterAll(async () => {
  await server?.close();
});

describe('GET /health and /v1/models', () => {
  it('answers /health with 200 and an empty body', async () => {
    const r = await call(server, '/health');
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
  });

  it('lists the policy, the PRM and search models with their context length', async () => {
    const r = await call(server, '/v1/models');
    expect(r.status).toBe(200);
    const list = parseModelList(r.json);
    const ids = list.data.map((m) => m.id);
    expect(ids.slice(0, 2)).toEqual(['policy', 'prm']);
    expect(ids).toContain('beam-16');
    expect(ids).toContain('dvts-64');
    expect(ids).toContain('compute-optimal-16');
    expect(list.data[0]!.max_model_len).toBe(server.engine.policy.config.maxPositionEmbeddings);
  });
});

describe('POST /v1/completions', () => {
  it('answers a text prompt in vLLM shape with usage counted from the tokenizer', async () => {
    const prompt = 'What is 2 + 3?';
    const r = await call(server, '/v1/completions', { model: 'policy', prompt, max_tokens: 8, temperature: 0 });
    expect(r.status).toBe(200);
    const res = parseCompletionResponse(r.json);
    expect(res.object).toBe('text_completion');
    expect(res.choices).toHaveLength(1);
    const promptTokens = server.engine.policy.tokenizer.encode(prompt, { addSpecialTokens: true }).length;
    expect(res.usage.prompt_tokens).toBe(promptTokens);
    expect(res.usage.completion_tokens).toBeGreaterThan(0);
    expect(res.usage.total_tokens).toBe(promptTokens + res.usage.completion_tokens!);
    expectAllReleased(server);
  });

  it('ends at max_tokens with finish_reason length and stop_reason null', async () => {
    const r = await call(server, '/v1/completions', { prompt: 'Tom has', max_tokens: 3, temperature: 0, stop: [] });
    const c = parseCompletionResponse(r.json).choices[0]!;
    if (c.finish_reason === 'length') {
      expect(r.json.usage.completion_tokens).toBe(3);
      expect(c.stop_reason).toBeNull();
    } else {
      // The model ended on EOS before 3 tokens: stop with no stop string.
      expect(c.finish_reason).toBe('stop');
      expect(c.stop_reason).toBeNull();
    }
  });

  it('reports the matched stop string as stop_reason and cuts it from the text unless asked to keep it', async () => {
    const body = { prompt: chatText, max_tokens: 64, temperature: 0, stop: ['='] };
    const cut = parseCompletionResponse((await call(server, '/v1/completions', body)).json).choices[0]!;
    expect(cut.finish_reason).toBe('stop');
    expect(cut.stop_reason).toBe('=');
    expect(cut.text.includes('=')).toBe(false);
    const kept = parseCompletionResponse((await call(server, '/v1/completions', { ...body, include_stop_str_in_output: true })).json).choices[0]!;
    expect(kept.text).toBe(`${cut.text}=`);
  });

  it('streams a stop-string ending exactly as it answers it whole (the stop string never leaks into a chunk)', async () => {
    for (const include of [false, true]) {
      const body = { prompt: chatText, max_tokens: 64, temperature: 0, stop: ['= '], include_stop_str_in_output: include };
      const whole = parseCompletionResponse((await call(server, '/v1/completions', body)).json).choices[0]!;
      expect(whole.stop_reason).toBe('= ');
      const chunks = sseEvents((await call(server, '/v1/completions', { ...body, stream: true })).text)
        .slice(0, -1)
        .map((e) => JSON.parse(e).choices[0]);
      expect(chunks.map((c) => c.text).join('')).toBe(whole.text);
      expect(chunks.at(-1).finish_reason).toBe('stop');
      expect(chunks.at(-1).stop_reason).toBe('= ');
    }
  });

  it('gives the same completion for the same seed, and n different samples from one prompt', async () => {
    const body = { prompt: QUESTION, max_tokens: 24, temperature: 1, seed: 11, n: 4 };
    const a = parseCompletionResponse((await call(server, '/v1/completions', body)).json);
    const b = parseCompletionResponse((await call(server, '/v1/completions', body)).json);
    expect(a.choices.map((c) => c.text)).toEqual(b.choices.map((c) => c.text));
    expect(a.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    expect(new Set(a.choices.map((c) => c.text)).size).toBeGreaterThan(1);
    // Usage counts the prompt once.
    expect(a.usage.prompt_tokens).toBe(server.engine.policy.tokenizer.encode(QUESTION, { addSpecialTokens: true }).length);
  });

  it('forks one prefilled prompt for n choices: the prompt pages are shared while they decode', async () => {
    const prompt = Array.from({ length: 8 }, () => QUESTION).join(' ');
    const promptTokens = server.engine.policy.tokenizer.encode(prompt, { addSpecialTokens: true }).length;
    const pageTokens = server.engine.policy.kvStats().pageTokens;
    const promptPages = Math.floor(promptTokens / pageTokens);
    expect(promptPages).toBeGreaterThanOrEqual(8);
    const n = 8;
    let peak = 0;
    const res = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ prompt, n, max_tokens: 16, temperature: 1, seed: 3, stream: true }),
    });
    const reader = res.body!.getReader();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
      peak = Math.max(peak, server.engine.policy.kvStats().pagesInUse);
    }
    // Unshared, n copies of the prompt would need n × promptPages pages.
    expect(peak).toBeGreaterThan(0);
    // Shared: the prompt's full pages once, plus each choice's own last page and at most one more.
    expect(peak).toBeLessThanOrEqual(promptPages + n * 3);
    expect(peak).toBeLessThan(n * promptPages);
    expectAllReleased(server);
  });

  it('takes token ids and arrays of prompts, indexing choices prompt by prompt', async () => {
    const ids = Array.from(server.engine.policy.tokenizer.encode('Tom has 3 apples', { addSpecialTokens: true }));
    const fromIds = parseCompletionResponse((await call(server, '/v1/completions', { prompt: ids, max_tokens: 6, temperature: 0 })).json);
    const fromText = parseCompletionResponse((await call(server, '/v1/completions', { prompt: 'Tom has 3 apples', max_tokens: 6, temperature: 0 })).json);
    expect(fromIds.choices[0]!.text).toBe(fromText.choices[0]!.text);
    const many = parseCompletionResponse((await call(server, '/v1/completions', { prompt: ['Tom has 3 apples', ids], n: 2, max_tokens: 6, temperature: 0 })).json);
    expect(many.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    expect(many.choices.every((c) => c.text === fromText.choices[0]!.text)).toBe(true);
  });

  it('returns the generated and prompt token ids with return_token_ids, as vLLM does', async () => {
    const r = parseCompletionResponse((await call(server, '/v1/completions', { prompt: chatText, max_tokens: 12, temperature: 0, return_token_ids: true })).json);
    const c = r.choices[0]!;
    const tok = server.engine.policy.tokenizer;
    expect(c.prompt_token_ids).toEqual(Array.from(tok.encode(chatText, { addSpecialTokens: true })));
    expect(c.token_ids).toHaveLength(r.usage.completion_tokens!);
    expect(tok.decode(c.token_ids!, { skipSpecialTokens: true }).startsWith(c.text)).toBe(true);
    const plain = parseCompletionResponse((await call(server, '/v1/completions', { prompt: chatText, max_tokens: 12, temperature: 0 })).json);
    expect(plain.choices[0]!.token_ids).toBeUndefined();
  });

  it('returns the sampled tokens and their log-probabilities with logprobs', async () => {
    const r = parseCompletionResponse((await call(server, '/v1/completions', { prompt: QUESTION, max_tokens: 6, temperature: 0, logprobs: 0 })).json);
    const lp = r.choices[0]!.logprobs!;
    expect(lp.tokens.length).toBe(r.usage.completion_tokens);
    expect(lp.token_logprobs.every((x) => x !== null && x <= 0)).toBe(true);
    expect(lp.text_offset[0]).toBe(0);
  });

  it('streams completion chunks and a usage chunk', async () => {
    const r = await call(server, '/v1/completions', { prompt: QUESTION, max_tokens: 30, temperature: 0, stream: true, stream_options: { include_usage: true } });
    expect(r.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = sseEvents(r.text);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    const text = chunks.flatMap((c) => c.choices.map((ch: { text: string }) => ch.text)).join('');
    const whole = parseCompletionResponse((await call(server, '/v1/completions', { prompt: QUESTION, max_tokens: 30, temperature: 0 })).json);
    expect(text).toBe(whole.choices[0]!.text);
    // Token counts equal; the prefix cache's share (prompt_tokens_details) depends on what ran before.
    const { prompt_tokens_details: _a, ...streamed } = chunks.at(-1).usage;
    const { prompt_tokens_details: _b, ...answered } = whole.usage;
    expect(streamed).toEqual(answered);
  });
});

describe('POST /v1/chat/completions', () => {
  it('applies the chat template: prompt tokens are those of model.chatPrompt', async () => {
    const messages = [{ role: 'user', content: QUESTION }];
    const r = await call(server, '/v1/chat/completions', { model: 'policy', messages, max_tokens: 60, temperature: 0 });
    expect(r.status).toBe(200);
    const res = parseChatCompletionResponse(r.json);
    const policy = server.engine.policy;
    const expected = policy.tokenizer.encode(policy.chatPrompt(messages), { addSpecialTokens: false }).length;
    expect(res.usage.prompt_tokens).toBe(expected);
    expect(res.choices[0]!.message.role).toBe('assistant');
    // The demo policy answers in steps ending with a boxed answer.
    const direct = await policy.generate(policy.tokenizer.encode(policy.chatPrompt(messages), { addSpecialTokens: false }), { maxTokens: 60 });
    expect(res.choices[0]!.message.content).toBe(direct.text);
  });

  it('returns each generated token with its log-probability when asked', async () => {
    const r = await call(server, '/v1/chat/completions', { messages: [{ role: 'user', content: QUESTION }], max_tokens: 12, temperature: 0, logprobs: true });
    const res = parseChatCompletionResponse(r.json);
    const content = res.choices[0]!.logprobs!.content!;
    expect(content).toHaveLength(res.usage.completion_tokens!);
    expect(content.every((t) => t.logprob <= 0 && t.top_logprobs.length === 0)).toBe(true);
    expect(content.map((t) => t.token).join('')).toContain(res.choices[0]!.message.content!.slice(0, 5));
  });

  it('streams token deltas as SSE chunks that add up to the whole answer', async () => {
    const body = { messages: [{ role: 'user', content: QUESTION }], max_tokens: 60, temperature: 0 };
    const r = await call(server, '/v1/chat/completions', { ...body, stream: true });
    const events = sseEvents(r.text);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => parseChatCompletionChunk(JSON.parse(e)));
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.length).toBeGreaterThan(4);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    const whole = parseChatCompletionResponse((await call(server, '/v1/chat/completions', body)).json);
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe(whole.choices[0]!.finish_reason);
    expectAllReleased(server);
  });
});

describe('POST /pooling', () => {
  it('gives per step the class probabilities of the PRM, equal to prm.scoreSteps', async () => {
    const prm = server.engine.prm!;
    const steps = ['3 + 4 = 7\n\n', 'The answer is \\boxed{7}.'];
    const layout = prm.format.layout;
    let text = layout.prefix(QUESTION);
    let tail = '';
    steps.forEach((s, i) => {
      const st = layout.step(s, i);
      text += tail + st.text;
      tail = st.tail;
    });
    const r = await call(server, '/pooling', { model: 'prm', input: text });
    expect(r.status).toBe(200);
    const res = parsePoolingResponse(r.json);
    const rows = stepRows(res.data[0]!);
    const want = await prm.scoreSteps(QUESTION, steps);
    expect(rows).toHaveLength(2);
    rows.forEach((row, i) => {
      expect(row[0]! + row[1]!).toBeCloseTo(1, 6);
      expect(row[1]).toBeCloseTo(want[i]!, 5);
    });
    expect(res.usage.prompt_tokens).toBe(prm.tokenizer.encode(text, { addSpecialTokens: true }).length);
  });

  it('answers one entry per input of an array, in order', async () => {
    const r = await call(server, '/pooling', { input: ['a = 1<extra_0>', 'no steps here', 'b<extra_0>c<extra_0>'] });
    const res = parsePoolingResponse(r.json);
    expect(res.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(res.data.map((d) => (d.data as number[][]).length)).toEqual([1, 0, 2]);
    expectAllReleased(server);
  });
});

describe('GET /metrics', () => {
  it('exposes request counts, tokens, KV pages and the queue in Prometheus text format', async () => {
    await call(server, '/v1/completions', { prompt: 'Tom', max_tokens: 2 });
    const r = await call(server, '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.text).toMatch(/^# HELP thinktree_requests_total /m);
    expect(r.text).toMatch(/^# TYPE thinktree_requests_total counter$/m);
    expect(r.text).toMatch(/^thinktree_requests_total\{endpoint="\/v1\/completions",status="200"\} \d+$/m);
    expect(r.text).toMatch(/^thinktree_generation_tokens_total [1-9]\d*$/m);
    expect(r.text).toMatch(/^thinktree_kv_pages_in_use\{model="policy"\} 0$/m);
    expect(r.text).toMatch(/^thinktree_kv_pages_free\{model="prm"\} \d+$/m);
    expect(r.text).toMatch(/^thinktree_queue_length 0$/m);
    expect(r.text).toMatch(/^thinktree_searches_running 0$/m);
    // Every sample line is `name{labels} value`.
    for (const line of r.text.trim().split('\n')) {
      if (!line.startsWith('#')) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? -?\d+(\.\d+)?(e[+-]?\d+)?$/);
    }
  });
});
