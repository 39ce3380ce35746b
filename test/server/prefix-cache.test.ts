// The prefix cache seen from the server: on by default (cached pages in /metrics, a resubmitted prompt
// computes only its new tokens), off with prefixCache: false / --no-prefix-cache.
import { afterEach, describe, expect, it } from 'vitest';
import { parseServeFlags } from '../../lib/cli/commands/serve.js';
import type { ServerHandle } from '../../lib/server/server.js';
import { QUESTION, call, expectAllReleased, startServer } from './helpers.js';

let server: ServerHandle | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const prompt = Array.from({ length: 6 }, () => QUESTION).join(' ');

describe('the prefix cache behind the server', () => {
  it('is on by default: a resubmitted prompt skips its cached pages, and /metrics counts cached pages', async () => {
    server = await startServer();
    const s = server;
    expect(s.engine.policy.info.prefixCache).toBe(true);
    const body = { prompt, max_tokens: 4, temperature: 0 };
    const first = await call(s, '/v1/completions', body);
    const before = s.engine.policy.kvStats();
    const second = await call(s, '/v1/completions', body);
    const after = s.engine.policy.kvStats();
    expect(second.json.choices[0].text).toBe(first.json.choices[0].text);
    expect(after.prefixHitTokens - before.prefixHitTokens).toBeGreaterThanOrEqual(s.engine.policy.kvStats().pageTokens);
    // usage says how many prompt tokens the cache served, as vLLM does (prompt_tokens_details.cached_tokens).
    const promptTokens = first.json.usage.prompt_tokens;
    expect(first.json.usage.prompt_tokens_details.cached_tokens).toBe(0);
    expect(second.json.usage.prompt_tokens_details.cached_tokens).toBeGreaterThanOrEqual(promptTokens - 2 * before.pageTokens);
    expect(second.json.usage.prompt_tokens_details.cached_tokens).toBeLessThan(promptTokens);
    const metrics = (await call(s, '/metrics')).text;
    expect(metrics).toMatch(/^thinktree_kv_pages_cached\{model="policy"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^thinktree_prefix_cache_hits_total\{model="policy"\} [1-9]\d*$/m);
    expectAllReleased(s);
  });

  it('keeps /pooling incremental: resubmitting a text with one more step computes little more than that step', async () => {
    server = await startServer();
    const s = server;
    const prm = s.engine.prm!;
    const layout = prm.format.layout;
    const steps = ['3 + 4 = 7\n\n', '7 + 0 = 7\n\n', '7 - 0 = 7\n\n', 'The answer is \\boxed{7}.'];
    const text = (k: number) => layout.prefix(QUESTION) + steps.slice(0, k).map((st, i) => layout.step(st, i).text).join('');
    await call(s, '/pooling', { input: text(3) });
    const before = prm.kvStats().tokensComputed;
    const r = await call(s, '/pooling', { input: text(4) });
    const computed = prm.kvStats().tokensComputed - before;
    expect(r.json.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(0);
    const total = r.json.usage.prompt_tokens;
    const fresh = total - prm.tokenizer.encode(text(3), { addSpecialTokens: true }).length;
    // The new step's tokens at least; the cache serves full pages only, so each step's span may also
    // recompute the partly filled page it starts in, but the question's prefix is never run again.
    expect(computed).toBeGreaterThanOrEqual(fresh);
    expect(computed).toBeLessThanOrEqual(fresh + steps.length * prm.kvStats().pageTokens);
    expect(computed).toBeLessThan(total / 2);
    const rows: number[][] = r.json.data[0].data;
    const want = await prm.scoreSteps(QUESTION, steps);
    rows.forEach((row, i) => expect(row[1]).toBeCloseTo(want[i]!, 5));
    expectAllReleased(s);
  });

  it('is off with prefixCache: false, with the same answers', async () => {
    server = await startServer({ prefixCache: false });
    const s = server;
    expect(s.engine.policy.info.prefixCache).toBe(false);
    expect(s.engine.prm!.info.prefixCache).toBe(false);
    await call(s, '/v1/completions', { prompt, max_tokens: 4, temperature: 0 });
    await call(s, '/v1/completions', { prompt, max_tokens: 4, temperature: 0 });
    expect(s.engine.policy.kvStats().pagesCached).toBe(0);
    expect(s.engine.policy.kvStats().prefixHitTokens).toBe(0);
    expect((await call(s, '/metrics')).text).toMatch(/^thinktree_kv_pages_cached\{model="policy"\} 0$/m);
  });

  it('is turned off by --no-prefix-cache', () => {
    const o = parseServeFlags(['--no-prefix-cache']);
    expect(o !== 'help' && o.prefixCache).toBe(false);
    const d = parseServeFlags([]);
    expect(d !== 'help' && d.prefixCache).toBeUndefined();
  });
});
