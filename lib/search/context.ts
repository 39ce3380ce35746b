import { guardCallback } from '../util/callbacks.js';
import type { NodeId, SearchBackend, StepSampling } from '../backends/types.js';
import { PrmRewardError, abortError } from '../errors.js';
import { UsageMeter } from './accounting.js';
import { TokenBudget } from './budget.js';
import type { ResolvedOptions, ResolvedParams } from './options.js';
import { SearchTree, type PathNode } from './tree.js';

/** The most tokens one step may generate, and whether the token cap (not the node's own limits) set it. */
interface Allowance {
  maxTokens: number;
  byCap: boolean;
}

/** A backend that answers for a different number of nodes than it was given is broken; say so. */
function expectCount(call: string, got: number, want: number): void {
  if (got !== want) throw new Error(`SearchBackend.${call} answered for ${got} nodes, expected ${want}`);
}

/** How one batch of steps is generated. */
export interface StepSpec {
  /** The strategy's parameters (sampling, limits). */
  params: ResolvedParams;
  /** Generate to the end of the solution (no step stop): the last iteration. */
  toEnd?: boolean;
  /** Temperature 0 (lookahead rollouts). */
  greedy?: boolean;
  /** @default 'step' */
  kind?: 'step' | 'rollout';
  /** Group of the i-th new node; defaults to the parent's group. */
  group?: (i: number) => number | null;
}

/**
 * Everything a strategy does to the backend goes through here: it records the tree, counts usage,
 * enforces the token cap, checks the abort signal before each call, reports progress, and tracks every
 * live backend node so that the search can release them all, whatever happens.
 */
export class SearchContext {
  readonly tree = new SearchTree();
  readonly usage: UsageMeter;
  readonly tokens: TokenBudget;
  private readonly live = new Set<NodeId>();

  constructor(
    readonly backend: SearchBackend,
    readonly question: string,
    readonly options: ResolvedOptions,
  ) {
    this.usage = new UsageMeter(backend.info);
    this.tokens = new TokenBudget(options.tokenCap);
    this.onProgress = guardCallback(options.onProgress, 'onProgress');
  }

  /** The caller's progress callback; one that throws is reported and dropped, never failing the search. */
  private readonly onProgress: ResolvedOptions['onProgress'];

  get exhausted(): boolean {
    return this.tokens.exhausted;
  }

  /** Number of backend nodes this search holds right now. */
  get liveCount(): number {
    return this.live.size;
  }

  charge(generations: number): void {
    this.usage.generations += generations;
  }

  checkAbort(): void {
    const signal = this.options.signal;
    if (signal?.aborted) throw abortError(signal, 'the search');
  }

  async createRoot(withPrm: boolean): Promise<PathNode> {
    this.checkAbort();
    const info = await this.backend.createRoot(this.question, {
      seed: this.options.seed,
      withPrm,
      signal: this.options.signal,
    });
    this.live.add(info.node);
    this.usage.prefilled(info.promptTokens, 0);
    this.usage.scored(info.prmTokens, 0);
    return this.tree.add({
      parent: null,
      kind: 'root',
      stepText: '',
      tokens: 0,
      finish: null,
      logprob: 0,
      depth: 0,
      attemptDepth: 0,
      attemptTokens: 0,
      group: null,
      finished: false,
      handle: info.node,
      policyContext: info.promptTokens,
      prmContext: info.prmTokens,
    });
  }

  private async fork(handles: readonly NodeId[]): Promise<NodeId[]> {
    if (handles.length === 0) return [];
    this.checkAbort();
    const kids = await this.backend.fork(handles);
    for (const k of kids) this.live.add(k);
    expectCount('fork', kids.length, handles.length);
    return kids;
  }

  private liveHandle(node: PathNode): NodeId {
    if (node.handle === null) throw new Error(`search tree node ${node.id} has no live backend node`);
    return node.handle;
  }

  /**
   * One new step under each entry of `parents` (repeat a parent to branch it). Parents keep their
   * nodes. Returns null, generating nothing, when the token cap leaves no room.
   */
  async expand(parents: readonly PathNode[], spec: StepSpec): Promise<PathNode[] | null> {
    if (parents.length === 0) return [];
    const allowance = this.allowances(parents, spec);
    if (allowance === null) return null;
    const policy = await this.fork(parents.map((p) => this.liveHandle(p)));
    // A parent scored on a separate PRM node (a revision attempt) branches that node too.
    const separate = parents.filter((p) => p.prmHandle !== null);
    const prmKids = await this.fork(separate.map((p) => p.prmHandle!));
    let j = 0;
    const prm = parents.map((p) => (p.prmHandle !== null ? prmKids[j++]! : null));
    return this.generate(parents, policy, prm, allowance, spec);
  }

  /**
   * One new step on each node, in place: each new record takes over its parent's backend nodes (the
   * parent keeps its record but can no longer be branched). Null when the token cap leaves no room.
   */
  async extend(nodes: readonly PathNode[], spec: StepSpec): Promise<PathNode[] | null> {
    if (nodes.length === 0) return [];
    const allowance = this.allowances(nodes, spec);
    if (allowance === null) return null;
    const handles = nodes.map((n) => this.liveHandle(n));
    const prm = nodes.map((n) => n.prmHandle);
    for (const n of nodes) {
      n.handle = null;
      n.prmHandle = null;
    }
    return this.generate(nodes, handles, prm, allowance, spec);
  }

  /** Per-node token limits for a batch, or null when the token cap is spent. */
  private allowances(parents: readonly PathNode[], spec: StepSpec): Allowance[] | null {
    const perStep = this.tokens.perStepAllowance(parents.length, this.usage.policyTokensGenerated);
    if (perStep === 0) return null;
    const { maxStepTokens, maxSolutionTokens } = spec.params;
    return parents.map((p) => {
      const solutionLeft = maxSolutionTokens - (p.kind === 'rollout' || p.kind === 'step' ? p.attemptTokens : 0);
      const own = Math.max(1, Math.min(maxStepTokens, solutionLeft));
      return perStep < own ? { maxTokens: perStep, byCap: true } : { maxTokens: own, byCap: false };
    });
  }

  private async generate(
    parents: readonly PathNode[],
    handles: readonly NodeId[],
    prmHandles: readonly (NodeId | null)[],
    allowance: readonly Allowance[],
    spec: StepSpec,
  ): Promise<PathNode[]> {
    const p = spec.params;
    const task = this.options.task;
    const out: PathNode[] = new Array(parents.length);
    // StepSampling has one maxTokens per call: nodes with different limits (only those near a solution
    // or token cap) go in separate calls.
    const byLimit = new Map<number, number[]>();
    allowance.forEach((a, i) => {
      const group = byLimit.get(a.maxTokens);
      if (group) group.push(i);
      else byLimit.set(a.maxTokens, [i]);
    });
    for (const [maxTokens, idx] of byLimit) {
      const sampling: StepSampling = {
        temperature: spec.greedy ? 0 : p.temperature,
        topP: p.topP,
        topK: p.topK,
        maxTokens,
        stop: spec.toEnd ? [] : task.stepStop,
      };
      this.checkAbort();
      const steps = await this.backend.generate(
        idx.map((i) => handles[i]!),
        sampling,
        this.options.signal,
      );
      expectCount('generate', steps.length, idx.length);
      steps.forEach((step, k) => {
        const i = idx[k]!;
        const parent = parents[i]!;
        if (step.prefilled) this.usage.prefilled(step.prefilled.tokens, step.prefilled.context);
        this.usage.generated(step.tokens, parent.policyContext);
        if (allowance[i]!.byCap && step.finish === 'length') this.tokens.cut = true;
        const kind = spec.kind ?? 'step';
        const attemptDepth = parent.kind === 'root' || parent.kind === 'prompt' ? 1 : parent.attemptDepth + 1;
        const attemptTokens = (parent.kind === 'root' || parent.kind === 'prompt' ? 0 : parent.attemptTokens) + step.tokens;
        const finished =
          spec.toEnd === true ||
          step.finish !== 'stop' ||
          step.text === '' ||
          task.isFinal(step.text) ||
          attemptDepth >= p.maxIterations ||
          attemptTokens >= p.maxSolutionTokens;
        out[i] = this.tree.add({
          parent,
          kind,
          stepText: step.text,
          tokens: step.tokens,
          finish: step.finish,
          logprob: step.logprob,
          depth: parent.depth + 1,
          attemptDepth,
          attemptTokens,
          group: spec.group ? spec.group(i) : parent.group,
          finished,
          handle: handles[i]!,
          prmHandle: prmHandles[i] ?? null,
          policyContext: parent.policyContext + step.tokens,
          prmContext: parent.prmContext,
        });
      });
      this.progress();
    }
    return out;
  }

  /** Scores the newest step of each node with the PRM (on its separate PRM node where it has one). */
  async score(all: readonly PathNode[]): Promise<void> {
    // A step with no text (a policy that stops at once, or emits only a blank line) has nothing for a
    // PRM to judge, and PRMs refuse it: it keeps the score of its path so far (its nearest scored
    // ancestor's, 0 when there is none) and its PRM context is left as it is.
    const nodes: PathNode[] = [];
    for (const n of all) {
      if (n.stepText.trim().length > 0) nodes.push(n);
      else n.prmScore = inheritedScore(n);
    }
    if (nodes.length === 0) return;
    this.checkAbort();
    const handles = nodes.map((n) => n.prmHandle ?? this.liveHandle(n));
    const res = await this.backend.score(
      handles,
      nodes.map((n) => n.stepText),
      this.options.signal,
    );
    expectCount('score', Math.min(res.rewards.length, res.tokens.length), nodes.length);
    // Rewards enter the search here, whatever the backend (a remote PRM may answer NaN or null): a
    // reward that is not a finite number fails the search, naming the PRM and the step, instead of
    // becoming a NaN score that sorts arbitrarily (beam) or breaks selection (MCTS).
    res.rewards.forEach((r, i) => {
      if (typeof r !== 'number' || !Number.isFinite(r)) {
        const n = nodes[i]!;
        const prm = this.backend.info.prmId ?? 'the PRM';
        throw new PrmRewardError(prm, `the step at depth ${n.depth} (${JSON.stringify(n.stepText.slice(0, 40))})`, r);
      }
    });
    nodes.forEach((n, i) => {
      this.usage.scored(res.tokens[i]!, n.prmContext);
      n.prmContext += res.tokens[i]!;
      n.prmScore = res.rewards[i]!;
    });
  }

  /**
   * A prompt node under each parent: a branch of the parent with `text` appended to its policy context.
   * With `prmFrom`, the new node is scored on a branch of that node's PRM context instead of the
   * parent's (a revision is judged as a fresh solution to the question, not as a continuation).
   */
  async appendPrompt(parents: readonly PathNode[], text: string, prmFrom?: PathNode): Promise<PathNode[]> {
    if (parents.length === 0) return [];
    const policy = await this.fork(parents.map((p) => this.liveHandle(p)));
    const prm = prmFrom ? await this.fork(parents.map(() => this.liveHandle(prmFrom))) : [];
    this.checkAbort();
    const added = await this.backend.appendText(
      policy,
      parents.map(() => text),
    );
    expectCount('appendText', added.length, policy.length);
    return parents.map((parent, i) => {
      this.usage.prefilled(added[i]!, parent.policyContext);
      return this.tree.add({
        parent,
        kind: 'prompt',
        stepText: text,
        tokens: 0,
        finish: null,
        logprob: 0,
        depth: parent.depth + 1,
        attemptDepth: 0,
        attemptTokens: 0,
        group: parent.group,
        finished: false,
        handle: policy[i]!,
        // Without prmFrom the policy branch carries the parent's PRM context as well.
        prmHandle: prmFrom ? prm[i]! : null,
        policyContext: parent.policyContext + added[i]!,
        prmContext: prmFrom ? prmFrom.prmContext : parent.prmContext,
      });
    });
  }

  /** Releases the backend nodes of these records (records stay in the tree). */
  async release(nodes: readonly PathNode[]): Promise<void> {
    const handles: NodeId[] = [];
    for (const n of nodes) {
      for (const h of [n.handle, n.prmHandle]) {
        if (h !== null && this.live.delete(h)) handles.push(h);
      }
      n.handle = null;
      n.prmHandle = null;
    }
    if (handles.length > 0) await this.backend.release(handles);
  }

  /** Releases every backend node this search still holds. */
  async releaseAll(): Promise<void> {
    for (const n of this.tree.nodes) {
      n.handle = null;
      n.prmHandle = null;
    }
    const handles = [...this.live];
    this.live.clear();
    if (handles.length > 0) await this.backend.release(handles);
  }

  private progress(): void {
    const cb = this.onProgress;
    if (cb === undefined) return;
    const elapsedMs = this.usage.elapsedMs();
    const branched = new Set<PathNode>();
    for (const n of this.tree.nodes) if (n.parent !== null && n.kind !== 'rollout') branched.add(n.parent);
    let openPaths = 0;
    for (const n of this.tree.nodes) if (n.kind === 'step' && !n.finished && n.handle !== null && !branched.has(n)) openPaths++;
    cb({
      strategy: this.options.strategy,
      stepsDone: this.usage.policySteps,
      openPaths,
      policyTokensGenerated: this.usage.policyTokensGenerated,
      elapsedMs,
      tokensPerSecond: elapsedMs > 0 ? (this.usage.policyTokensGenerated * 1000) / elapsedMs : 0,
    });
  }
}

/** The PRM score of the nearest scored ancestor of `node`, 0 when none was scored. */
function inheritedScore(node: PathNode): number {
  for (let p = node.parent; p !== null; p = p.parent) if (p.prmScore !== null) return p.prmScore;
  return 0;
}
