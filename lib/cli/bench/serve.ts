/**
 * The scale-out benchmarks on the shipped demo models, all on this machine over loopback:
 *  1. server overhead: the same concurrent beam searches in process (Engine.search) and through
 *     `thinktree serve` as search-as-model chat completions (`model: "beam-16"`), on one loaded engine;
 *  2. the prefix cache: the same searches driven by the RemoteBackend (which resubmits each node's whole
 *     text to /v1/completions and the PRM's whole input to /pooling every step, as a client of vLLM
 *     does) against `thinktree serve` with the cache on and off: tokens the server computed, and time;
 *  3. the field's method vs ours: those remote runs against the native backend in process (the PRM
 *     extends its own KV tree by each step's tokens): PRM tokens and time per search.
 * Tokens computed are read from the models' own counters (kvStats().tokensComputed), not estimated.
 */
import path from 'node:path';
import { Engine } from '../../engine/engine.js';
import { RemoteBackend } from '../../backends/remote.js';
import { qwenMathPrmLayout } from '../../backends/http/layout.js';
import { demoModels } from '../../demo-models.js';
import { EVAL_SEARCH_PARAMS } from '../../eval/defaults.js';
import { loadDataset } from '../../eval/dataset.js';
import { search } from '../../search/search.js';
import type { SearchOptions } from '../../search/types.js';
import { serve, type ServerHandle } from '../../server/server.js';

export interface ServeBenchOptions {
  threads: number;
  log?: (line: string) => void;
  /** Concurrent searches. @default 16 */
  searches?: number;
  /** Beam search budget N and beam width M. @default 16, 4 */
  n?: number;
  beamWidth?: number;
  /** Test level the questions come from (deeper solutions at higher levels). @default 5 */
  level?: number;
}

export interface ServeBenchRun {
  what: string;
  seconds: number;
  policyTokens: number;
  prmTokens: number;
  /** Mean depth (steps) of the chosen solutions. */
  meanSteps: number;
}

export interface ServeBenchResult {
  inProcess: ServeBenchRun;
  searchAsModel: ServeBenchRun;
  remoteCached: ServeBenchRun;
  remoteUncached: ServeBenchRun;
  /** searchAsModel.seconds / inProcess.seconds (target ≤ 1.15). */
  overhead: number;
  /** remoteUncached.prmTokens / remoteCached.prmTokens. */
  prmCacheRatio: number;
  /** remoteUncached.prmTokens / inProcess.prmTokens: what re-encoding costs against the PRM's KV tree. */
  fieldVsOursPrmTokens: number;
  /** PRM tokens computed for beam-shaped /pooling requests at depths 1..8, cache off ÷ on, cumulative. */
  prmDepthRatios: number[];
}

type Counted = { tokensComputed?: number };
const computed = (s: Counted | null | undefined): number => s?.tokensComputed ?? 0;

function tokensOf(engine: Engine): { policy: number; prm: number } {
  const s = engine.kvStats();
  return { policy: computed(s.policy as Counted), prm: computed(s.prm as Counted | null) };
}

async function timed(
  what: string,
  engine: Engine,
  run: () => Promise<number[]>,
): Promise<ServeBenchRun> {
  const before = tokensOf(engine);
  const t0 = performance.now();
  const steps = await run();
  const seconds = (performance.now() - t0) / 1000;
  const after = tokensOf(engine);
  return {
    what,
    seconds,
    policyTokens: after.policy - before.policy,
    prmTokens: after.prm - before.prm,
    meanSteps: steps.reduce((a, b) => a + b, 0) / Math.max(1, steps.length),
  };
}

async function chatSearch(url: string, question: string, body: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, messages: [{ role: 'user', content: question }] }),
  });
  const json = (await res.json()) as { error?: { message: string }; thinktree?: { steps?: unknown[] } };
  if (!res.ok) throw new Error(`search-as-model request failed (${res.status}): ${json.error?.message ?? 'no message'}`);
  return Array.isArray(json.thinktree?.steps) ? json.thinktree.steps.length : 0;
}

/** An arithmetic step the demo PRM reads as its own kind of text (deterministic in `i` and `k`). */
function syntheticStep(i: number, k: number, candidate: number): string {
  const a = 10 + ((i * 37 + k * 11) % 80), b = 2 + ((i * 13 + k * 7 + candidate * 5) % 40);
  return k % 2 === 0 ? `${a} + ${b} = ${a + b}` : `${a} - ${b} = ${a - b}`;
}

/**
 * Beam-shaped PRM scoring over HTTP, as a client of vLLM's pooling API does it: at each depth k = 1..8,
 * every question's `beams` kept paths are extended by `expansions` candidate steps each, and every
 * candidate's whole input (question + k steps) goes to POST /pooling. Returns the PRM tokens the server
 * computed at each depth.
 */
async function prmDepthRun(
  threads: number,
  prefixCache: boolean,
  questions: readonly string[],
  beams: number,
  expansions: number,
  depth: number,
): Promise<number[]> {
  const handle = await serve({ threads, port: 0, prefixCache, maxQueue: 1024 });
  const layout = qwenMathPrmLayout();
  const perDepth: number[] = [];
  try {
    const prmTokens = () => computed(handle.engine.prm?.kvStats() as Counted | undefined);
    for (let k = 1; k <= depth; k++) {
      const before = prmTokens();
      const inputs: string[] = [];
      questions.forEach((q, i) => {
        for (let beam = 0; beam < beams; beam++) {
          // the kept path of this beam: the first candidate of each earlier depth
          const path = Array.from({ length: k - 1 }, (_, d) => syntheticStep(i * beams + beam, d + 1, 0));
          for (let c = 0; c < expansions; c++) inputs.push(layout.text(q, [...path, syntheticStep(i * beams + beam, k, c)]));
        }
      });
      for (let at = 0; at < inputs.length; at += 64) {
        const res = await fetch(`${handle.url}/pooling`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ input: inputs.slice(at, at + 64), task: 'token_classify', add_special_tokens: false }),
        });
        if (!res.ok) throw new Error(`/pooling failed (${res.status}): ${await res.text()}`);
        await res.json();
      }
      perDepth.push(prmTokens() - before);
    }
  } finally {
    await handle.close();
  }
  return perDepth;
}

export async function benchServe(opts: ServeBenchOptions): Promise<ServeBenchResult> {
  const log = opts.log ?? (() => {});
  const searches = opts.searches ?? 16;
  const n = opts.n ?? 16;
  const beamWidth = opts.beamWidth ?? 4;
  const level = opts.level ?? 5;
  const records = (await loadDataset(path.join(demoModels.data, `test-level-${level}.jsonl.gz`))).slice(0, searches + 1);
  // The last question only warms up each engine (weights paged in, scratch sized) and is not timed; it
  // shares no prefix with the others beyond the chat template.
  const questions = records.slice(0, searches).map((r) => r.problem);
  const warmUp = records[searches]!.problem;
  const params = { ...EVAL_SEARCH_PARAMS, strategy: 'beam' as const, n, beamWidth };
  const load = { threads: opts.threads };
  log(
    `serve: ${questions.length} concurrent beam searches (N = ${n}, M = ${beamWidth}, level-${level} questions, ` +
      `${params.aggregation} aggregation, ≤ ${params.maxIterations} steps) on the demo models, loopback`,
  );

  // 1 and 3: in process, then the same engine behind the server as search-as-model. The prefix cache is
  // off here: the second run of the same searches would otherwise hit the pages the first one cached.
  const uncached = { ...load, prefixCache: false };
  const engine = await Engine.load(demoModels.policy, demoModels.prm, { policy: uncached, prm: uncached });
  let server: ServerHandle | undefined;
  let inProcess: ServeBenchRun, searchAsModel: ServeBenchRun;
  try {
    const one = async (q: string, seed: number) => (await engine.search(q, { ...params, seed } as Omit<SearchOptions, 'backend'>)).completion?.steps.length ?? 0;
    await one(warmUp, 0);
    inProcess = await timed('in process (native backend)', engine, () => Promise.all(questions.map((q, i) => one(q, i + 1))));
    server = await serve({ engine, port: 0, maxQueue: 4 * searches });
    const url = server.url;
    const { strategy: _s, n: _n, ...rest } = params;
    searchAsModel = await timed('thinktree serve, search as a model', engine, () =>
      Promise.all(questions.map((q, i) => chatSearch(url, q, { model: `beam-${n}`, thinktree: { ...rest, seed: i + 1 } }))),
    );
  } finally {
    await server?.close();
    engine.dispose();
  }

  // 2: the RemoteBackend against a server with the prefix cache on, then off.
  const remoteRun = async (prefixCache: boolean): Promise<ServeBenchRun> => {
    const handle = await serve({ threads: opts.threads, port: 0, prefixCache, maxQueue: 1024 });
    try {
      const backend = await RemoteBackend.create({ baseUrl: handle.url, findPrm: true, concurrency: 64 });
      try {
        await search(warmUp, { ...params, seed: 0, backend });
        return await timed(`RemoteBackend → serve, prefix cache ${prefixCache ? 'on' : 'off'}`, handle.engine, () =>
          Promise.all(
            questions.map(async (q, i) => (await search(q, { ...params, seed: i + 1, backend })).completion?.steps.length ?? 0),
          ),
        );
      } finally {
        backend.dispose();
      }
    } finally {
      await handle.close();
    }
  };
  const remoteCached = await remoteRun(true);
  const remoteUncached = await remoteRun(false);

  // 4: the PRM alone at a fixed depth, beam-shaped (4 questions × 4 beams × 4 candidates, 8 steps).
  const depth = 8;
  const depthQuestions = questions.slice(0, 4);
  const on = await prmDepthRun(opts.threads, true, depthQuestions, 4, 4, depth);
  const off = await prmDepthRun(opts.threads, false, depthQuestions, 4, 4, depth);
  const cumulative = (xs: number[]) => xs.map((_, i) => xs.slice(0, i + 1).reduce((a, b) => a + b, 0));
  const onSum = cumulative(on), offSum = cumulative(off);
  const prmDepthRatios = offSum.map((t, i) => t / Math.max(1, onSum[i]!));

  const rows = [inProcess, searchAsModel, remoteCached, remoteUncached];
  log('  what                                        time      policy tokens   PRM tokens   mean steps');
  for (const r of rows) {
    log(
      `  ${r.what.padEnd(42)} ${r.seconds.toFixed(2).padStart(6)} s ${String(r.policyTokens).padStart(14)} ${String(r.prmTokens).padStart(12)}` +
        `   ${r.meanSteps.toFixed(1)}`,
    );
  }
  const result: ServeBenchResult = {
    inProcess,
    searchAsModel,
    remoteCached,
    remoteUncached,
    overhead: searchAsModel.seconds / inProcess.seconds,
    prmCacheRatio: remoteUncached.prmTokens / Math.max(1, remoteCached.prmTokens),
    fieldVsOursPrmTokens: remoteUncached.prmTokens / Math.max(1, inProcess.prmTokens),
    prmDepthRatios,
  };
  log(`  PRM over /pooling, beam-shaped (${depthQuestions.length} questions × 4 beams × 4 candidates), tokens the server computed:`);
  log('  depth   cache on   cache off   off ÷ on (so far)');
  for (let i = 0; i < depth; i++) {
    log(`  ${String(i + 1).padStart(5)} ${String(on[i]).padStart(10)} ${String(off[i]).padStart(11)} ${prmDepthRatios[i]!.toFixed(1).padStart(12)}×`);
  }
  log(
    `  server overhead ${result.overhead.toFixed(2)}× (target ≤ 1.15×); prefix cache: ${result.prmCacheRatio.toFixed(1)}× fewer PRM ` +
      `tokens, ${(remoteUncached.policyTokens / Math.max(1, remoteCached.policyTokens)).toFixed(1)}× fewer policy tokens, ` +
      `${(remoteUncached.seconds / remoteCached.seconds).toFixed(2)}× less time; re-encoding over HTTP (the field's method) ` +
      `computes ${result.fieldVsOursPrmTokens.toFixed(1)}× the PRM tokens of the native backend in process and takes ` +
      `${(remoteUncached.seconds / inProcess.seconds).toFixed(1)}× its time; PRM over /pooling at ${depth} steps: ` +
      `${prmDepthRatios[depth - 1]!.toFixed(1)}× fewer tokens with the prefix cache (target ≥ 4×)`,
  );
  return result;
}
