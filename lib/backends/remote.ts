/**
 * The search backend over HTTP: the policy behind an OpenAI-compatible `/v1/completions` (vLLM, SGLang,
 * `thinktree serve`) and the PRM behind vLLM's `/pooling` (or an outcome reward model behind
 * `/classify`). Servers keep no per-node state, so a node here is a client-side record (its whole policy
 * text, the PRM's question and scored steps, its seed), and every call resubmits whole texts: the
 * engines' automatic prefix caching is what keeps that cheap, and the usage they report (resubmitted
 * prompt tokens as prefilled, whole PRM inputs as scored) shows what it costs. See docs/scaling-out.md.
 */
import type {
  BackendModelInfo,
  GeneratedStep,
  NodeId,
  RootInfo,
  ScoreResult,
  SearchBackend,
  StepSampling,
} from './types.js';
import { setMaxListeners } from 'node:events';
import { DisposedError, OptionError, abortError } from '../errors.js';
import { NodeTable } from './node-table.js';
import type { CompletionRequest, CompletionResponse } from '../protocol/completions.js';
import { parseCompletionResponse } from '../protocol/completions.js';
import { parseModelList, type ModelCard } from '../protocol/models.js';
import {
  parseClassifyResponse,
  parsePoolingResponse,
  stepRows,
  type PoolingRequest,
} from '../protocol/pooling.js';
import { ProtocolError } from '../protocol/validate.js';
import { HttpClient } from './http/client.js';
import { RemoteBackendError } from './http/errors.js';
import {
  chatml,
  chatTemplateOf,
  mathShepherdLayout,
  outcomeText,
  qwenMathPrmLayout,
  type ChatRenderer,
  type PrmTextLayout,
} from './http/layout.js';
import { Limiter } from './http/limiter.js';
import { OPTION_KEYS, paramsFromName, positiveInt, type RemoteBackendOptions } from './http/options.js';
import { finishOf, probabilities } from './http/reading.js';
import { mixSeed } from './http/seeds.js';
import { splitTokens } from './http/split.js';

export { RemoteBackendError } from './http/errors.js';
export type { RemoteFailure } from './http/errors.js';
export type { PrmTextLayout } from './http/layout.js';
export { paramsFromName, type RemoteBackendOptions } from './http/options.js';

/** A node: everything the servers need to continue it, since they keep nothing between requests. */
interface RemoteNode {
  /** The policy's whole text: chat-formatted question and every step so far. */
  text: string;
  /** The same as the server's token ids, when it returned them (tokenIds option); null: send the text. */
  ids: number[] | null;
  /** The question and the steps scored on this node's path, or null without a PRM context. */
  prm: { question: string; steps: string[] } | null;
  seed: number;
  /** Steps generated on this node's line (the request seed's second half). */
  steps: number;
  /** Children forked so far (the child seed's second half). */
  forks: number;
}

/** A served model: its name for requests, and its identity (the card's root, else its name). */
interface Served {
  name: string;
  id: string;
}

/**
 * A SearchBackend whose models run on inference servers. Create with `RemoteBackend.create(options)`:
 * it checks the servers answer and resolves the model names before any search.
 */
export class RemoteBackend implements SearchBackend {
  readonly info: BackendModelInfo;
  private readonly nodes = new NodeTable<RemoteNode>();
  private readonly policyLimiter: Limiter;
  private readonly prmLimiter: Limiter;
  /** Aborted by dispose(): cancels every request in flight. */
  private readonly lifetime = new AbortController();
  private disposed = false;

  private constructor(
    private readonly options: RemoteBackendOptions,
    private readonly policyClient: HttpClient,
    private readonly prmClient: HttpClient | null,
    readonly policy: Served,
    readonly prm: Served | null,
    private readonly formatPrompt: (question: string) => string,
    private readonly prmLayout: PrmTextLayout,
    private readonly outcomeRender: ChatRenderer,
    /** Ask the policy server for token ids (return_token_ids), and whether it must send them. */
    private readonly ids: { ask: boolean; readonly require: boolean },
  ) {
    // Every request in flight listens on these signals; there may be many more than Node's warning limit.
    setMaxListeners(0, this.lifetime.signal);
    const concurrency = positiveInt('concurrency', options.concurrency, 16);
    this.policyLimiter = new Limiter(concurrency);
    this.prmLimiter = prmClient === policyClient ? this.policyLimiter : new Limiter(concurrency);
    const given = options.modelInfo ?? {};
    this.info = {
      policyParams: given.policyParams ?? paramsFromName(policy.name) ?? 0,
      // A PRM with unknown size still counts as present (prmParams > 0): 1 marks it, FLOPs undercount.
      prmParams: prm === null ? 0 : (given.prmParams ?? paramsFromName(prm.name) ?? 1),
      policyAttentionWidth: given.policyAttentionWidth ?? 0,
      prmAttentionWidth: prm === null ? 0 : (given.prmAttentionWidth ?? 0),
      policyId: given.policyId ?? policy.id,
      prmId: prm === null ? undefined : (given.prmId ?? prm.id),
    };
  }

  /** Checks the options, asks the servers which models they serve, and returns the backend. */
  static async create(options: RemoteBackendOptions, signal?: AbortSignal): Promise<RemoteBackend> {
    if (typeof options !== 'object' || options === null) throw new OptionError('RemoteBackend.create expects an options object');
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.has(key)) throw new OptionError(`Unknown RemoteBackend option \`${key}\``);
    }
    if (typeof options.baseUrl !== 'string') throw new OptionError('RemoteBackend needs `baseUrl`, the policy server URL');
    positiveInt('concurrency', options.concurrency, 16);
    positiveInt('maxPromptsPerRequest', options.maxPromptsPerRequest, 64);
    positiveInt('maxPrmInputsPerRequest', options.maxPrmInputsPerRequest, 64);
    const endpoint = options.prmEndpoint ?? 'pooling';
    if (endpoint !== 'pooling' && endpoint !== 'classify') {
      throw new OptionError(`Expected \`prmEndpoint\` to be 'pooling' or 'classify', got ${JSON.stringify(endpoint)}`);
    }
    const http = (baseUrl: string, apiKey: string | undefined) => {
      try {
        return new HttpClient({ baseUrl, apiKey, timeoutMs: options.timeoutMs, retries: options.retries, backoffMs: options.backoffMs });
      } catch (err) {
        throw new OptionError((err as Error).message);
      }
    };
    const policyClient = http(options.baseUrl, options.apiKey);
    const samePrmServer = options.prmBaseUrl === undefined || options.prmBaseUrl === options.baseUrl;
    const wantPrm = options.prmBaseUrl !== undefined || options.prmModel !== undefined || options.findPrm === true;
    const prmClient = !wantPrm ? null : samePrmServer ? policyClient : http(options.prmBaseUrl!, options.prmApiKey ?? options.apiKey);

    const policyCards = parseListed(policyClient, await policyClient.get('/v1/models', signal).catch(rethrowProtocol(policyClient, 'GET /v1/models')));
    const policy = pick(policyCards, options.model, policyClient, 'model');
    let prm: Served | null = null;
    if (prmClient !== null) {
      const cards =
        prmClient === policyClient
          ? policyCards
          : parseListed(prmClient, await prmClient.get('/v1/models', signal).catch(rethrowProtocol(prmClient, 'GET /v1/models')));
      if (options.prmModel !== undefined || !samePrmServer) {
        prm = pick(cards, options.prmModel, prmClient, 'prmModel');
      } else {
        // findPrm on the policy's server: the base model after the policy.
        const base = cards.filter((c) => !c.parent && c.id !== policy.name);
        prm = base.length > 0 ? served(base[0]!) : null;
      }
    }

    let formatPrompt = options.formatPrompt;
    if (formatPrompt === undefined) {
      const render = options.policyTokenizer !== undefined ? chatTemplateOf(options.policyTokenizer) : chatml;
      formatPrompt = (q) => render([{ role: 'user', content: q }], true);
    }
    const prmRender = options.prmTokenizer !== undefined ? chatTemplateOf(options.prmTokenizer) : chatml;
    const layoutOption = options.prmLayout ?? 'qwen2.5-math-prm';
    const layout =
      layoutOption === 'qwen2.5-math-prm'
        ? qwenMathPrmLayout(prmRender)
        : layoutOption === 'math-shepherd'
          ? mathShepherdLayout()
          : layoutOption;
    if (typeof layout !== 'object' || typeof layout.text !== 'function') {
      throw new OptionError(`Expected \`prmLayout\` to be 'qwen2.5-math-prm', 'math-shepherd' or a layout object, got ${JSON.stringify(layoutOption)}`);
    }
    const tokenIds = options.tokenIds ?? 'auto';
    if (tokenIds !== true && tokenIds !== false && tokenIds !== 'auto') {
      throw new OptionError(`Expected \`tokenIds\` to be true, false or 'auto', got ${JSON.stringify(tokenIds)}`);
    }
    const ids = { ask: tokenIds !== false, require: tokenIds === true };
    return new RemoteBackend(options, policyClient, prmClient, policy, prm, formatPrompt, layout, prmRender, ids);
  }

  /** Live nodes (for leak audits). */
  get liveNodes(): number {
    return this.nodes.size;
  }

  /** Requests in flight to the policy and PRM servers. */
  get inFlight(): number {
    return this.policyLimiter.running + (this.prmLimiter === this.policyLimiter ? 0 : this.prmLimiter.running);
  }

  /** Cancels the requests in flight and drops every node. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.lifetime.abort(new DisposedError('RemoteBackend'));
    this.nodes.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }

  private live(): void {
    if (this.disposed) throw new DisposedError('RemoteBackend');
  }

  /** The caller's signal and dispose(), as one signal for fetch. */
  private signalFor(signal?: AbortSignal): AbortSignal {
    return signal ? AbortSignal.any([signal, this.lifetime.signal]) : this.lifetime.signal;
  }

  /**
   * A root: the prompt is formatted here and sent with the first generate, so nothing is prefilled yet
   * (promptTokens and prmTokens are 0; each call's server usage is counted as it comes).
   */
  async createRoot(question: string, options: { seed: number; withPrm: boolean; signal?: AbortSignal }): Promise<RootInfo> {
    this.live();
    if (options.signal?.aborted) throw abortError(options.signal);
    if (options.withPrm && this.prm === null) throw new OptionError('this strategy needs a PRM, and the remote backend has none');
    if (!Number.isFinite(options.seed)) throw new OptionError(`Expected \`seed\` to be a finite number, got ${options.seed}`);
    if (options.withPrm) this.rejectForbidden(question, 'the question');
    const node = this.nodes.add({
      text: this.formatPrompt(question),
      ids: null,
      prm: options.withPrm ? { question, steps: [] } : null,
      seed: Math.trunc(options.seed),
      steps: 0,
      forks: 0,
    });
    return { node, promptTokens: 0, prmTokens: 0 };
  }

  async fork(parents: readonly NodeId[]): Promise<NodeId[]> {
    this.live();
    const entries = parents.map((p) => this.nodes.get(p));
    return entries.map((e) =>
      this.nodes.add({
        text: e.text,
        ids: e.ids,
        prm: e.prm && { question: e.prm.question, steps: [...e.prm.steps] },
        seed: mixSeed(e.seed, e.forks++),
        steps: e.steps,
        forks: 0,
      }),
    );
  }

  async release(ids: readonly NodeId[]): Promise<void> {
    for (const id of ids) this.nodes.delete(id);
  }

  async appendText(ids: readonly NodeId[], texts: readonly string[]): Promise<number[]> {
    this.live();
    const entries = ids.map((id) => this.nodes.get(id));
    entries.forEach((e, i) => {
      e.text += texts[i];
      // Appended text has no token ids here: the node goes back to text.
      e.ids = null;
    });
    // The server counts the text when the node is next sent (as prefilled prompt tokens).
    return entries.map(() => 0);
  }

  async generate(ids: readonly NodeId[], sampling: StepSampling, signal?: AbortSignal): Promise<GeneratedStep[]> {
    this.live();
    if (signal?.aborted) throw abortError(signal);
    const entries = ids.map((id) => this.nodes.get(id));
    if (entries.length === 0) return [];
    const seeds = entries.map((e) => mixSeed(e.seed, 1_000_003 + e.steps));
    const groups = this.options.promptArrays ? this.promptGroups(entries) : entries.map((_, i) => [i]);
    const steps: GeneratedStep[] = new Array(entries.length);
    const tokenIds: (number[] | null)[] = entries.map(() => null);
    await this.all(groups, this.policyLimiter, signal, async (group, s) => {
      const prompts = group.map((i) => entries[i]!.text);
      const promptIds = group.map((i) => entries[i]!.ids);
      const seed = group.length === 1 ? seeds[group[0]!]! : mixSeed(seeds[group[0]!]!, group.length);
      const body = this.completionRequest(prompts, sampling, seed);
      if (this.ids.ask) {
        body.return_token_ids = true;
        // A group is all ids or all text (promptGroups keeps them apart).
        if (promptIds.every((p) => p !== null)) body.prompt = promptIds.length === 1 ? promptIds[0]! : (promptIds as number[][]);
      }
      let res: CompletionResponse;
      try {
        res = await this.complete(body, s);
      } catch (err) {
        // 'auto' asked a server that refuses the field (a vLLM with extra fields forbidden): stop asking.
        if (!(err instanceof RemoteBackendError && err.status === 400 && body.return_token_ids === true && !this.ids.require && /return_token_ids/u.test(err.serverMessage))) throw err;
        this.ids.ask = false;
        delete body.return_token_ids;
        body.prompt = prompts.length === 1 ? prompts[0]! : [...prompts];
        res = await this.complete(body, s);
      }
      if (res.choices.length !== group.length) {
        throw this.protocolError('POST /v1/completions', `the response has ${res.choices.length} choices for ${group.length} prompts`);
      }
      const prompt = res.usage.prompt_tokens;
      const cached = res.usage.prompt_tokens_details?.cached_tokens ?? 0;
      const promptShares = splitTokens(Math.max(0, prompt - cached), prompts.map((p) => p.length));
      const cachedShares = splitTokens(cached, prompts.map((p) => p.length));
      const completionShares = splitTokens(res.usage.completion_tokens ?? 0, res.choices.map((c) => c.text.length || 1));
      res.choices.forEach((choice, k) => {
        let finish: ReturnType<typeof finishOf>;
        try {
          finish = finishOf(choice);
        } catch (err) {
          throw this.protocolError('POST /v1/completions', (err as Error).message);
        }
        // A stop string the server trimmed (SGLang without no_stop_trim) is put back: steps keep it.
        const text = finish.stop !== null && !choice.text.endsWith(finish.stop) ? choice.text + finish.stop : choice.text;
        const lp = choice.logprobs;
        if (this.ids.ask) {
          const before = promptIds[k] ?? choice.prompt_token_ids;
          if (before && choice.token_ids) tokenIds[group[k]!] = [...before, ...choice.token_ids];
          else if (this.ids.require) {
            throw this.protocolError('POST /v1/completions', `choices[${k}] has no ${before ? 'token_ids' : 'prompt_token_ids'}; the tokenIds option needs a server that returns them (vLLM's return_token_ids)`);
          }
        }
        steps[group[k]!] = {
          text,
          tokens: lp ? lp.tokens.length : completionShares[k]!,
          finish: finish.finish,
          logprob: lp ? lp.token_logprobs.reduce<number>((a, b) => a + (b ?? 0), 0) : 0,
          prefilled: { tokens: promptShares[k]!, context: cachedShares[k]! },
        };
      });
    });
    entries.forEach((e, i) => {
      e.text += steps[i]!.text;
      e.ids = tokenIds[i]!;
      e.steps++;
    });
    return steps;
  }

  async score(ids: readonly NodeId[], steps: readonly string[], signal?: AbortSignal): Promise<ScoreResult> {
    this.live();
    if (signal?.aborted) throw abortError(signal);
    const entries = ids.map((id, i) => {
      const e = this.nodes.get(id);
      if (e.prm === null) throw new OptionError(`node ${id} has no PRM context (created without withPrm)`);
      this.rejectForbidden(steps[i]!, `step ${i}`);
      return e.prm;
    });
    if (entries.length === 0) return { rewards: [], tokens: [] };
    const client = this.prmClient!;
    const paths = entries.map((p, i) => [...p.steps, steps[i]!]);
    const classify = (this.options.prmEndpoint ?? 'pooling') === 'classify';
    const texts = entries.map((p, i) =>
      classify ? outcomeText(this.outcomeRender, p.question, paths[i]!) : this.prmLayout.text(p.question, paths[i]!),
    );
    const size = positiveInt('maxPrmInputsPerRequest', this.options.maxPrmInputsPerRequest, 64);
    const batches: number[][] = [];
    for (let i = 0; i < texts.length; i += size) batches.push(texts.slice(i, i + size).map((_, k) => i + k));
    const rewards: number[] = new Array(texts.length);
    const tokens: number[] = new Array(texts.length);
    await this.all(batches, this.prmLimiter, signal, async (batch, s) => {
      const input = batch.map((i) => texts[i]!);
      const shares = (total: number) => splitTokens(total, input.map((t) => t.length));
      if (classify) {
        const path = 'POST /classify';
        const res = await this.call(client, path, () => client.post('/classify', { model: this.prm!.name, input }, s), parseClassifyResponse);
        if (res.data.length !== batch.length) throw this.protocolError(path, `the response has ${res.data.length} results for ${batch.length} inputs`, client);
        const used = shares(res.usage.prompt_tokens);
        res.data.forEach((d, k) => {
          const cls = this.options.outcomeClass ?? (d.probs.length === 2 ? 1 : 0);
          const p = probabilities(d.probs)[cls];
          if (p === undefined) throw this.protocolError(path, `data[${k}].probs has ${d.probs.length} classes; outcomeClass is ${cls}`, client);
          rewards[batch[k]!] = p;
          tokens[batch[k]!] = used[k]!;
        });
        return;
      }
      const path = 'POST /pooling';
      const body: PoolingRequest = { model: this.prm!.name, input, encoding_format: 'float', add_special_tokens: this.prmLayout.addSpecialTokens ?? false };
      const task = this.options.prmTask === undefined ? 'token_classify' : this.options.prmTask;
      if (task !== null) body.task = task;
      const res = await this.call(client, path, () => client.post('/pooling', body, s), parsePoolingResponse);
      if (res.data.length !== batch.length) throw this.protocolError(path, `the response has ${res.data.length} outputs for ${batch.length} inputs`, client);
      const used = shares(res.usage.prompt_tokens);
      res.data.forEach((d, k) => {
        const i = batch[k]!;
        let rows: number[][];
        try {
          rows = stepRows(d, `data[${k}].data`);
        } catch (err) {
          throw this.protocolError(path, (err as Error).message, client);
        }
        if (rows.length !== paths[i]!.length) {
          throw this.protocolError(
            path,
            `data[${k}] has ${rows.length} step rows for a text with ${paths[i]!.length} steps; is the server's pooler STEP with ` +
              `step_tag_id set to the ${this.prmLayout.name} step tag?`,
            client,
          );
        }
        const p = probabilities(rows[rows.length - 1]!)[this.prmLayout.rewardClass];
        if (p === undefined) throw this.protocolError(path, `data[${k}]'s rows have no class ${this.prmLayout.rewardClass}`, client);
        rewards[i] = p;
        tokens[i] = used[k]!;
      });
    });
    entries.forEach((p, i) => p.steps.push(steps[i]!));
    return { rewards, tokens };
  }

  private rejectForbidden(text: string, what: string): void {
    for (const bad of this.prmLayout.forbidden) {
      if (text.includes(bad)) throw new OptionError(`${what} contains ${JSON.stringify(bad)}, which the ${this.prmLayout.name} layout uses to mark steps`);
    }
  }

  /**
   * Groups of node indices for prompt-array requests: no prompt twice in a group, at most max per
   * group, token-id prompts and text prompts apart (a prompt list is all of one kind).
   */
  private promptGroups(entries: readonly RemoteNode[]): number[][] {
    const max = positiveInt('maxPromptsPerRequest', this.options.maxPromptsPerRequest, 64);
    const groups: { idx: number[]; texts: Set<string>; ids: boolean }[] = [];
    entries.forEach((e, i) => {
      const byIds = e.ids !== null;
      let g = groups.find((x) => x.idx.length < max && x.ids === byIds && !x.texts.has(e.text));
      if (!g) groups.push((g = { idx: [], texts: new Set(), ids: byIds }));
      g.idx.push(i);
      g.texts.add(e.text);
    });
    return groups.map((g) => g.idx);
  }

  private completionRequest(prompts: readonly string[], s: StepSampling, seed: number): CompletionRequest {
    const req: CompletionRequest = {
      model: this.policy.name,
      prompt: prompts.length === 1 ? prompts[0]! : [...prompts],
      n: 1,
      max_tokens: s.maxTokens,
      temperature: s.temperature,
      top_p: s.topP,
      seed,
      include_stop_str_in_output: true,
      logprobs: 1,
      skip_special_tokens: this.options.skipSpecialTokens ?? true,
    };
    // top_k absent = all tokens (vLLM: None, 0 or -1; SGLang: -1 or absent).
    if (s.topK > 0) req.top_k = s.topK;
    if (s.stop.length > 0) req.stop = [...s.stop];
    return req;
  }

  private complete(body: CompletionRequest, signal: AbortSignal): Promise<CompletionResponse> {
    const c = this.policyClient;
    return this.call(c, 'POST /v1/completions', () => c.post('/v1/completions', body, signal), parseCompletionResponse);
  }

  /** One request and the check of its response; a malformed response becomes a RemoteBackendError. */
  private async call<T>(client: HttpClient, endpoint: string, send: () => Promise<unknown>, parse: (body: unknown) => T): Promise<T> {
    const json = await send();
    try {
      return parse(json);
    } catch (err) {
      if (err instanceof ProtocolError) throw this.protocolError(endpoint, `the response is not in the expected shape: ${err.message}`, client, err);
      throw err;
    }
  }

  private protocolError(endpoint: string, message: string, client: HttpClient = this.policyClient, cause?: unknown): RemoteBackendError {
    return new RemoteBackendError('protocol', client.baseUrl, endpoint, 200, message, 1, { cause });
  }

  /**
   * Runs `task` for every item under `limiter`; the first failure cancels the rest (their requests are
   * aborted) and is what the call rejects with. The caller's abort wins over the errors it causes.
   */
  private async all<T>(
    items: readonly T[],
    limiter: Limiter,
    signal: AbortSignal | undefined,
    task: (item: T, signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    const siblings = new AbortController();
    const s = AbortSignal.any([this.signalFor(signal), siblings.signal]);
    setMaxListeners(0, s);
    const results = await Promise.allSettled(
      items.map((item) =>
        limiter.run(async () => {
          try {
            await task(item, s);
          } catch (err) {
            siblings.abort(err);
            throw err;
          }
        }, s),
      ),
    );
    if (signal?.aborted) throw abortError(signal);
    if (this.lifetime.signal.aborted) throw new DisposedError('RemoteBackend');
    // Every failure aborts the siblings with itself as the reason, so the first is the siblings' reason.
    if (siblings.signal.aborted) throw siblings.signal.reason;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

function served(card: ModelCard): Served {
  return { name: card.id, id: card.root ?? card.id };
}

function pick(cards: readonly ModelCard[], wanted: string | undefined, client: HttpClient, option: string): Served {
  if (wanted === undefined) {
    const first = cards.find((c) => !c.parent) ?? cards[0];
    if (!first) throw new RemoteBackendError('protocol', client.baseUrl, 'GET /v1/models', 200, 'the server lists no models', 1);
    return served(first);
  }
  const card = cards.find((c) => c.id === wanted);
  if (!card) {
    throw new OptionError(
      `${client.baseUrl} does not serve \`${wanted}\` (${option}); it serves ${cards.map((c) => `\`${c.id}\``).join(', ') || 'nothing'}`,
    );
  }
  return served(card);
}

function parseListed(client: HttpClient, body: unknown): ModelCard[] {
  try {
    return parseModelList(body).data;
  } catch (err) {
    throw new RemoteBackendError('protocol', client.baseUrl, 'GET /v1/models', 200, `the response is not a model list: ${(err as Error).message}`, 1, { cause: err });
  }
}

function rethrowProtocol(client: HttpClient, endpoint: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof RemoteBackendError || (err instanceof Error && err.name === 'AbortError')) throw err;
    throw new RemoteBackendError('network', client.baseUrl, endpoint, null, (err as Error).message, 1, { cause: err });
  };
}
