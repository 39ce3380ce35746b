/**
 * Search as a model, as optillm does it: a chat completion whose `model` names a strategy and budget
 * (`beam-16`, `dvts-64`, `best-of-n-8`, …) or whose `thinktree` field carries search options runs that
 * search over the served policy and PRM (through the engine's NativeBackend, so concurrent searches
 * share native batches) and answers with the chosen solution. The search's own usage, and on request
 * its tree (search-tree v1 JSON), come back in the `thinktree` extension field; with `stream: true` the
 * search's progress events stream as chunks before the answer.
 */
import type { ChatMessage } from '../models/chat-template.js';
import type { ChatCompletionChunk, ChatCompletionResponse } from '../protocol/chat.js';
import { PARAM_KEYS, resolveParams } from '../search/options.js';
import { STRATEGY_NAMES, isStrategyName, type StrategyName, type StrategyParams } from '../search/params.js';
import { STRATEGIES } from '../search/registry.js';
import type { ProgressEvent, SearchOptions, SearchResult } from '../search/types.js';
import { serializeSearch } from '../viewer/serialize.js';
import type { ServerContext } from './context.js';
import { HttpError, badField } from './errors.js';
import { modelNotFound, nowSeconds, requestId, usage, type Exchange, type Reply } from './exchange.js';
import { SseStream } from './http.js';
import { lastUserText } from './messages.js';
import { readStream } from './sampling.js';
import { checkKnownKeys, optBool, optNumber, type Body } from './validate.js';

const NAME = new RegExp(`^(${STRATEGY_NAMES.join('|')})-([1-9][0-9]{0,5})$`);

const EXTENSION_KEYS = ['strategy', ...PARAM_KEYS, 'seed', 'tokenCap', 'tree'] as const;

/** A search's answer: a chat completion plus the `thinktree` extension field. */
export type SearchChatResponse = ChatCompletionResponse & { thinktree: Record<string, unknown> };
/** A streamed search's chunk: progress events (and at the end the extension field) in `thinktree`. */
export type SearchChatChunk = ChatCompletionChunk & { thinktree?: Record<string, unknown> };

/** Largest search budget a request may ask for. */
const MAX_BUDGET = 1024;

/** `beam-16` → beam, 16; null for other names. */
export function parseSearchModel(name: string): { strategy: StrategyName; n: number } | null {
  const m = NAME.exec(name);
  return m === null ? null : { strategy: m[1] as StrategyName, n: Number(m[2]) };
}

function extension(body: Body): Body | undefined {
  const ext = body.thinktree;
  if (ext === undefined || ext === null) return undefined;
  if (typeof ext !== 'object' || Array.isArray(ext)) throw badField('thinktree', '`thinktree` must be an object of search options', 'invalid_type');
  return ext as Body;
}

export function isSearchRequest(ctx: ServerContext, model: string, body: Body): boolean {
  if (parseSearchModel(model) !== null) return true;
  const ext = extension(body);
  return ext !== undefined && ext.strategy !== undefined && (model === ctx.names.policy || model === undefined);
}

/** Largest divisor of n that is at most 4: beam search's and DVTS's default M. */
function defaultBeamWidth(n: number): number {
  for (let d = Math.min(4, n); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

interface SearchPlan {
  question: string;
  options: Omit<SearchOptions, 'backend'>;
  /** The options recorded in the tree JSON. */
  recorded: Record<string, unknown> & { aggregation: NonNullable<StrategyParams['aggregation']> };
  tree: boolean;
}

function plan(ex: Exchange, model: string, messages: readonly ChatMessage[]): SearchPlan {
  const { ctx, body } = ex;
  const fromName = parseSearchModel(model);
  if (fromName === null && model !== ctx.names.policy) throw modelNotFound(model);
  const ext = extension(body) ?? {};
  // A search answers once; the completion-only fields would be silently ignored, so they are refused.
  if ((optNumber(body, 'n', { min: 1, integer: true }) ?? 1) !== 1) throw badField('n', 'A search answers with one choice: `n` must be 1 (the budget is in the model name or `thinktree.n`)');
  for (const field of ['stop', 'logprobs', 'min_p', 'best_of']) {
    if (body[field] !== undefined && body[field] !== null && body[field] !== false) throw badField(field, `\`${field}\` does not apply to a search (see \`thinktree\`)`, 'unsupported');
  }
  checkKnownKeys(ext, EXTENSION_KEYS, 'thinktree.');
  const strategyField = ext.strategy ?? fromName?.strategy;
  if (!isStrategyName(strategyField)) {
    throw badField('thinktree.strategy', `\`thinktree.strategy\` must be one of ${STRATEGY_NAMES.join(', ')}, got ${JSON.stringify(strategyField)}`);
  }
  const strategy = strategyField;
  // Standard sampling fields map onto the search's; the extension field wins.
  const params: Record<string, unknown> = { ...ctx.searchDefaults };
  const temperature = optNumber(body, 'temperature', { min: 0, max: 100 });
  const topP = optNumber(body, 'top_p', { min: 0, max: 1 });
  const topK = optNumber(body, 'top_k', { min: -1, integer: true });
  if (temperature !== undefined) params.temperature = temperature;
  if (topP !== undefined) params.topP = topP;
  if (topK !== undefined) params.topK = topK === -1 ? 0 : topK;
  for (const k of PARAM_KEYS) if (ext[k] !== undefined) params[k] = ext[k];
  params.n ??= fromName?.n;
  if (params.n === undefined) throw badField('thinktree.n', '`thinktree.n` (the budget) is required when the model does not name one');
  if (typeof params.n !== 'number' || params.n > MAX_BUDGET) throw badField('thinktree.n', `\`thinktree.n\` must be an integer in [1, ${MAX_BUDGET}]`);
  params.beamWidth ??= defaultBeamWidth(params.n);
  let resolved;
  try {
    resolved = resolveParams(strategy, params as Partial<StrategyParams>);
  } catch (err) {
    const key = /`(\w+)`/.exec((err as Error).message)?.[1];
    throw badField(key === undefined ? 'thinktree' : `thinktree.${key}`, (err as Error).message);
  }
  const needsPrm = STRATEGIES.get(strategy)!.needsPrm(resolved);
  if (needsPrm && !ctx.engine.prm) throw badField('model', `\`${strategy}\` scores steps with a process reward model, and this server has none`, 'no_prm');
  if (strategy === 'compute-optimal' && ctx.calibration === undefined) {
    throw badField('model', 'compute-optimal needs a calibration table, and this server has none (serve --calibration FILE)', 'no_calibration');
  }
  const seed = optNumber(ext, 'seed', { min: 0, max: 2 ** 53 - 1, integer: true }, 'thinktree.') ?? optNumber(body, 'seed', { min: 0, max: 2 ** 53 - 1, integer: true });
  const tokenCap = optNumber(ext, 'tokenCap', { min: 1, integer: true }, 'thinktree.') ?? optNumber(body, 'max_tokens', { min: 1, integer: true });
  const options: Omit<SearchOptions, 'backend'> = {
    ...(params as Partial<StrategyParams>),
    n: resolved.n,
    strategy,
    ...(seed === undefined ? {} : { seed }),
    ...(tokenCap === undefined ? {} : { tokenCap }),
    ...(strategy === 'compute-optimal' ? { calibration: ctx.calibration } : {}),
    ...(ctx.task === undefined ? {} : { task: ctx.task }),
  };
  const recorded = { ...(params as Record<string, unknown>), strategy, aggregation: resolved.aggregation, ...(seed === undefined ? {} : { seed }) };
  return { question: lastUserText(messages), options, recorded, tree: optBool(ext, 'tree', 'thinktree.') ?? false };
}

/** The `thinktree` extension field of the answer. */
function extensionOf(ctx: ServerContext, p: SearchPlan, result: SearchResult): Record<string, unknown> {
  const out: Record<string, unknown> = {
    strategy: result.strategy,
    answer: result.answer,
    score: result.completion?.score ?? null,
    steps: result.completion?.steps ?? [],
    stepScores: result.completion?.stepScores ?? [],
    stopReason: result.stopReason,
    usage: result.usage,
  };
  if (p.tree) {
    const info = ctx.engine.backend.info;
    out.tree = serializeSearch(result, {
      question: p.question,
      searchOptions: p.recorded,
      models: { policy: info.policyId ?? null, prm: info.prmId ?? null },
      ...(ctx.task === undefined ? {} : { task: ctx.task }),
    });
  }
  return out;
}

/** A search's tokens in the server's counters. */
function countUsage(ctx: ServerContext, result: SearchResult): void {
  ctx.metrics.promptTokens += result.usage.policyTokensPrefilled;
  ctx.metrics.generatedTokens += result.usage.policyTokensGenerated;
  ctx.metrics.prmTokens += result.usage.prmTokensScored;
}

function standardUsage(result: SearchResult) {
  return usage(result.usage.policyTokensPrefilled, result.usage.policyTokensGenerated);
}

export async function searchChat(ex: Exchange, model: string, messages: readonly ChatMessage[]): Promise<Reply> {
  const { ctx } = ex;
  const p = plan(ex, model, messages);
  const stream = readStream(ex.body);
  const id = requestId('chatcmpl');
  const created = nowSeconds();
  const finishReason = (r: SearchResult) => (r.stopReason === 'token-cap' ? 'length' : 'stop');
  const run = (onProgress?: (e: ProgressEvent) => void) => {
    ctx.searches.running++;
    return ctx.engine
      .search(p.question, { ...p.options, signal: ex.signal, ...(onProgress ? { onProgress } : {}) })
      .finally(() => ctx.searches.running--);
  };
  if (!stream.stream) {
    const result = await run();
    countUsage(ctx, result);
    return {
      status: 200,
      body: {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: result.completion?.text ?? '' },
            logprobs: null,
            finish_reason: finishReason(result),
            stop_reason: null,
          },
        ],
        usage: standardUsage(result),
        thinktree: extensionOf(ctx, p, result),
      } satisfies SearchChatResponse,
    };
  }
  const sse = new SseStream(ex.res);
  const chunk = (choices: ChatCompletionChunk['choices'], extra: Partial<SearchChatChunk> = {}) =>
    sse.send<SearchChatChunk>({ id, object: 'chat.completion.chunk', created, model, choices, ...extra });
  chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
  try {
    const result = await run((e) => chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: null }], { thinktree: { progress: e } }));
    countUsage(ctx, result);
    chunk([{ index: 0, delta: { content: result.completion?.text ?? '' }, logprobs: null, finish_reason: null }]);
    chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason(result), stop_reason: null }], {
      ...(stream.includeUsage ? { usage: standardUsage(result) } : {}),
      thinktree: extensionOf(ctx, p, result),
    });
    sse.done();
  } catch (err) {
    if (!ex.signal.aborted) sse.fail(err instanceof HttpError ? err : new HttpError(500, (err as Error).message, 'server_error'));
  }
  return 'streamed';
}
