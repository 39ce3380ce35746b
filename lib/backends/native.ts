import type {
  BackendModelInfo,
  GeneratedStep,
  NodeId,
  RootInfo,
  ScoreResult,
  SearchBackend,
  StepSampling,
} from './types.js';
import { OptionError, abortError } from '../errors.js';
import { NodeTable } from './node-table.js';
import type { Model, StepResult } from '../models/model.js';
import type { Prm, PrmNodeId } from '../models/prm/prm.js';
import type { SeqId } from '../native/addon-types.js';
import { StepBatcher } from './step-batcher.js';

interface NodeEntry {
  seq: SeqId;
  prm: PrmNodeId | undefined;
}

export interface NativeBackendOptions {
  /**
   * Turns a question into the policy's prompt text. @default the policy's chat template with the
   * question as the user turn
   */
  formatPrompt?: (question: string) => string;
}

/**
 * The search backend over the native engine: each node is a policy sequence plus a PRM node, both
 * sharing KV pages with their ancestors. Generate and score requests of all live searches are merged
 * into shared native batches.
 */
export class NativeBackend implements SearchBackend {
  readonly info: BackendModelInfo;
  private readonly nodes = new NodeTable<NodeEntry>();
  private readonly generateBatcher: StepBatcher<SeqId, StepResult>;
  private readonly scoreBatcher: StepBatcher<{ node: PrmNodeId; step: string }, { reward: number; tokens: number }>;
  private readonly formatPrompt: (question: string) => string;

  constructor(
    readonly policy: Model,
    readonly prm: Prm | undefined,
    options: NativeBackendOptions = {},
  ) {
    this.formatPrompt =
      options.formatPrompt ?? ((q) => policy.chatPrompt([{ role: 'user', content: q }], { addGenerationPrompt: true }));
    const width = (c: { numLayers: number; hiddenSize: number }) => c.numLayers * c.hiddenSize;
    this.info = {
      policyParams: policy.info.paramCount,
      prmParams: prm?.info.paramCount ?? 0,
      policyAttentionWidth: width(policy.config),
      prmAttentionWidth: prm ? width(prm.config) : 0,
      policyId: policy.info.id,
      prmId: prm?.info.id,
    };
    this.generateBatcher = new StepBatcher((seqs, key) => policy.generateStep(seqs, JSON.parse(key) as StepSampling));
    this.scoreBatcher = new StepBatcher(async (items) => {
      if (!this.prm) throw new OptionError('this backend has no PRM');
      const res = await this.prm.score(
        items.map((i) => i.node),
        items.map((i) => i.step),
      );
      return res.rewards.map((reward, i) => ({ reward, tokens: res.tokens[i] }));
    });
  }

  /** Live nodes (for leak audits). */
  get liveNodes(): number {
    return this.nodes.size;
  }

  async createRoot(question: string, options: { seed: number; withPrm: boolean; signal?: AbortSignal }): Promise<RootInfo> {
    if (options.signal?.aborted) throw abortError(options.signal);
    if (options.withPrm && !this.prm) throw new OptionError('this strategy needs a PRM, and the engine has none');
    const prompt = this.formatPrompt(question);
    const seq = await this.policy.createSequence({ seed: options.seed });
    let prm: PrmNodeId | undefined;
    try {
      await this.policy.appendTokens(seq, prompt);
      if (options.withPrm && this.prm) prm = await this.prm.root(question, options.signal);
    } catch (err) {
      await this.policy.release(seq);
      throw err;
    }
    const node = this.nodes.add({ seq, prm });
    try {
      const promptTokens = (await this.policy.sequenceTokens(seq)).length;
      const prmTokens = prm !== undefined && this.prm ? this.prm.nodeTokens(prm).length : 0;
      return { node, promptTokens, prmTokens };
    } catch (err) {
      // The caller never learns of the node, so it cannot release it: release it here.
      await this.release([node]).catch(() => undefined);
      throw err;
    }
  }

  async fork(parents: readonly NodeId[]): Promise<NodeId[]> {
    const entries = parents.map((p) => this.nodes.get(p));
    const withPrm = entries.filter((e) => e.prm !== undefined);
    const [policySide, prmSide] = await Promise.allSettled([
      this.policy.forkMany(entries.map((e) => e.seq)),
      this.prm && withPrm.length > 0 ? this.prm.fork(withPrm.map((e) => e.prm as PrmNodeId)) : Promise.resolve([]),
    ]);
    // One side failed (a dispose, a full pool): free the children the other side made, or they leak.
    if (policySide.status === 'rejected' || prmSide.status === 'rejected') {
      if (policySide.status === 'fulfilled') await this.policy.releaseMany(policySide.value).catch(() => undefined);
      if (prmSide.status === 'fulfilled' && prmSide.value.length > 0) await this.prm?.release(prmSide.value).catch(() => undefined);
      throw policySide.status === 'rejected' ? policySide.reason : (prmSide as PromiseRejectedResult).reason;
    }
    const seqs = policySide.value;
    const prmChildren = prmSide.value;
    let k = 0;
    return entries.map((e, i) => this.nodes.add({ seq: seqs[i], prm: e.prm === undefined ? undefined : prmChildren[k++] }));
  }

  async release(ids: readonly NodeId[]): Promise<void> {
    const entries: NodeEntry[] = [];
    for (const id of ids) {
      const e = this.nodes.find(id);
      if (e === undefined) continue;
      this.nodes.delete(id);
      entries.push(e);
    }
    const prmNodes = entries.filter((e) => e.prm !== undefined).map((e) => e.prm as PrmNodeId);
    await Promise.all([
      this.policy.releaseMany(entries.map((e) => e.seq)),
      this.prm && prmNodes.length > 0 ? this.prm.release(prmNodes) : Promise.resolve(),
    ]);
  }

  async generate(ids: readonly NodeId[], sampling: StepSampling, signal?: AbortSignal): Promise<GeneratedStep[]> {
    if (signal?.aborted) throw abortError(signal);
    const seqs = ids.map((id) => this.nodes.get(id).seq);
    const key = JSON.stringify({
      temperature: sampling.temperature,
      topP: sampling.topP,
      topK: sampling.topK,
      maxTokens: sampling.maxTokens,
      stop: [...sampling.stop],
    });
    const steps = await this.generateBatcher.submit(seqs, key);
    return steps.map((s) => ({
      text: s.text,
      tokens: s.tokens.length,
      finish: s.finishReason,
      logprob: s.logprobs.reduce((a, b) => a + b, 0),
    }));
  }

  async appendText(ids: readonly NodeId[], texts: readonly string[]): Promise<number[]> {
    const counts: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const seq = this.nodes.get(ids[i]).seq;
      const before = (await this.policy.sequenceTokens(seq)).length;
      await this.policy.appendTokens(seq, texts[i]);
      counts.push((await this.policy.sequenceTokens(seq)).length - before);
    }
    return counts;
  }

  async score(ids: readonly NodeId[], steps: readonly string[], signal?: AbortSignal): Promise<ScoreResult> {
    if (signal?.aborted) throw abortError(signal);
    const items = ids.map((id, i) => {
      const prm = this.nodes.get(id).prm;
      if (prm === undefined) throw new OptionError(`node ${id} has no PRM context (created without withPrm)`);
      return { node: prm, step: steps[i] };
    });
    const out = await this.scoreBatcher.submit(items, 'score');
    return { rewards: out.map((o) => o.reward), tokens: out.map((o) => o.tokens) };
  }
}
