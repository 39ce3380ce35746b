/**
 * Server counters and gauges in Prometheus' text exposition format (version 0.0.4): one `# HELP` and
 * `# TYPE` line per family, then its samples.
 */
import type { KvStats } from '../native/addon-types.js';

/** KV stats with what the prefix cache adds (absent from runtimes without one). */
type KvWithCache = KvStats & { pagesCached?: number; tokensComputed?: number; prefixQueryTokens?: number; prefixHitTokens?: number };

export interface Gauges {
  queueLength: number;
  inFlight: number;
  searchesRunning: number;
  kv: { policy: KvWithCache; prm: KvWithCache | null };
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export class Metrics {
  /** `endpoint status` → requests answered. */
  private readonly requests = new Map<string, { endpoint: string; status: number; count: number }>();
  promptTokens = 0;
  generatedTokens = 0;
  prmTokens = 0;
  rejectedQueueFull = 0;

  countRequest(endpoint: string, status: number): void {
    const key = `${endpoint} ${status}`;
    const row = this.requests.get(key) ?? { endpoint, status, count: 0 };
    row.count++;
    this.requests.set(key, row);
  }

  render(g: Gauges): string {
    const lines: string[] = [];
    const family = (name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
    };
    family(
      'thinktree_requests_total',
      'counter',
      'HTTP requests answered, by endpoint and status.',
      [...this.requests.values()].map((r) => [`{endpoint="${escapeLabel(r.endpoint)}",status="${r.status}"}`, r.count]),
    );
    family('thinktree_prompt_tokens_total', 'counter', 'Prompt tokens of completion requests.', [['', this.promptTokens]]);
    family('thinktree_generation_tokens_total', 'counter', 'Tokens generated for completion requests.', [['', this.generatedTokens]]);
    family('thinktree_prm_tokens_total', 'counter', 'Tokens run through the PRM for /pooling requests.', [['', this.prmTokens]]);
    family('thinktree_rejected_queue_full_total', 'counter', 'Requests refused with 429 because the queue was full.', [['', this.rejectedQueueFull]]);
    family('thinktree_queue_length', 'gauge', 'Model requests admitted and not yet answered.', [['', g.inFlight]]);
    family('thinktree_batch_waiting', 'gauge', 'Completion requests waiting for the next decode round.', [['', g.queueLength]]);
    family('thinktree_searches_running', 'gauge', 'Search-as-model requests running.', [['', g.searchesRunning]]);
    const kv = (m: 'policy' | 'prm', s: KvWithCache | null, pick: (s: KvWithCache) => number | undefined): [string, number][] => {
      const v = s === null ? undefined : pick(s);
      return v === undefined ? [] : [[`{model="${m}"}`, v]];
    };
    for (const [name, type, help, pick] of [
      ['thinktree_kv_pages_in_use', 'gauge', 'KV pages owned by live sequences.', (s: KvWithCache) => s.pagesInUse],
      ['thinktree_kv_pages_free', 'gauge', 'KV pages an allocation can take (cached ones included).', (s: KvWithCache) => s.pagesFree],
      ['thinktree_kv_pages_total', 'gauge', 'KV pages in the pool.', (s: KvWithCache) => s.pagesTotal],
      ['thinktree_kv_sequences', 'gauge', 'Live sequences.', (s: KvWithCache) => s.sequences],
      ['thinktree_kv_pages_cached', 'gauge', 'Free KV pages that still hold a cached prefix.', (s: KvWithCache) => s.pagesCached],
      ['thinktree_tokens_computed_total', 'counter', 'Tokens the forward pass ran since load.', (s: KvWithCache) => s.tokensComputed],
      ['thinktree_prefix_cache_queries_total', 'counter', 'Pending tokens that looked up the prefix cache.', (s: KvWithCache) => s.prefixQueryTokens],
      ['thinktree_prefix_cache_hits_total', 'counter', 'Tokens the prefix cache let the forward pass skip.', (s: KvWithCache) => s.prefixHitTokens],
    ] as const) {
      const samples = [...kv('policy', g.kv.policy, pick), ...kv('prm', g.kv.prm, pick)];
      if (samples.length > 0) family(name, type, help, samples);
    }
    return lines.join('\n') + '\n';
  }
}
