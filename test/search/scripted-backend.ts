/**
 * A deterministic SearchBackend for strategy tests. The policy's next-step distribution and the PRM's
 * reward are plain functions the test supplies (so a test can recompute what any strategy should have
 * done), sampling is keyed by each node's seed, and every call, token and live node is counted.
 */
import type {
  BackendModelInfo,
  GeneratedStep,
  NodeId,
  RootInfo,
  ScoreResult,
  SearchBackend,
  StepSampling,
} from '../../lib/backends/types.js';

export interface ScriptStep {
  text: string;
  /** Relative probability (normalised over the options). */
  p: number;
  /** The solution ends after this step (EOS). */
  eos?: boolean;
  /** Policy tokens of the step; default: its length in characters. */
  tokens?: number;
}

export interface Segment {
  kind: 'step' | 'append';
  text: string;
}

/** What the policy sees: the question and everything after the prompt. */
export interface PolicyView {
  question: string;
  segments: readonly Segment[];
  /** Generated steps since the last appended text (the current attempt). */
  attempt: readonly string[];
}

export interface Script {
  /** The possible next steps. */
  next(view: PolicyView): readonly ScriptStep[];
  /** The PRM reward of the newest step, given every step scored on this node's path. */
  reward(question: string, scored: readonly string[]): number;
}

export type Method = 'createRoot' | 'fork' | 'release' | 'generate' | 'appendText' | 'score';

export interface ScriptedOptions {
  prm?: boolean;
  policyId?: string;
  prmId?: string;
  /** Called at the start of every call, before it does anything (e.g. to abort a search mid-way). */
  onCall?: (method: Method, index: number) => void;
}

interface NodeState {
  question: string;
  seed: number;
  draws: number;
  forks: number;
  segments: Segment[];
  scored: string[];
  withPrm: boolean;
}

/** A 32-bit mix of two integers (murmur3's finaliser over a combined word). */
export function mix32(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A number in (0, 1) that is a fixed function of a string (FNV-1a, then mixed). */
export function unitHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return (mix32(h, s.length) + 0.5) / 4294967296;
}

export const tokensOf = (s: ScriptStep): number => s.tokens ?? s.text.length;

function abortErr(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  const e = new Error('The operation was aborted');
  e.name = 'AbortError';
  return e;
}

export class ScriptedBackend implements SearchBackend {
  readonly info: BackendModelInfo;
  readonly calls: Record<Method, number> = { createRoot: 0, fork: 0, release: 0, generate: 0, appendText: 0, score: 0 };
  /** Every generate, per node: what it saw, how it sampled, what it produced. */
  readonly generated: { node: NodeId; view: PolicyView; sampling: StepSampling; step: GeneratedStep }[] = [];
  /** Every generate call: how many nodes, how it sampled, tokens produced in all. */
  readonly generateCalls: { nodes: number; sampling: StepSampling; tokens: number }[] = [];
  readonly appended: { node: NodeId; text: string; view: PolicyView }[] = [];
  readonly scoredLog: { node: NodeId; scored: string[]; reward: number }[] = [];
  readonly live = new Set<NodeId>();
  /** parent of every forked node (roots map to null). */
  readonly parentOf = new Map<NodeId, NodeId | null>();
  created = 0;
  tokensGenerated = 0;
  private readonly nodes = new Map<NodeId, NodeState>();
  private nextId = 1;
  private callIndex = 0;

  constructor(
    private readonly script: Script,
    private readonly options: ScriptedOptions = {},
  ) {
    this.info = {
      policyParams: 1_000_000,
      prmParams: options.prm === false ? 0 : 500_000,
      policyAttentionWidth: 64,
      prmAttentionWidth: 32,
      policyId: options.policyId ?? 'scripted-policy',
      prmId: options.prmId ?? 'scripted-prm',
    };
  }

  get totalCalls(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  private enter(method: Method, signal?: AbortSignal): void {
    this.calls[method]++;
    this.options.onCall?.(method, this.callIndex++);
    if (signal?.aborted) throw abortErr(signal);
  }

  private state(node: NodeId): NodeState {
    const s = this.nodes.get(node);
    if (s === undefined || !this.live.has(node)) throw new Error(`node ${node} is not live`);
    return s;
  }

  private add(state: NodeState, parent: NodeId | null): NodeId {
    const id = this.nextId++ as NodeId;
    this.nodes.set(id, state);
    this.live.add(id);
    this.parentOf.set(id, parent);
    this.created++;
    return id;
  }

  view(node: NodeId): PolicyView {
    const s = this.state(node);
    const lastAppend = s.segments.map((g) => g.kind).lastIndexOf('append');
    return {
      question: s.question,
      segments: s.segments.map((g) => ({ ...g })),
      attempt: s.segments.slice(lastAppend + 1).map((g) => g.text),
    };
  }

  async createRoot(question: string, options: { seed: number; withPrm: boolean; signal?: AbortSignal }): Promise<RootInfo> {
    this.enter('createRoot', options.signal);
    if (options.withPrm && this.info.prmParams === 0) throw new Error('this backend has no PRM');
    const node = this.add(
      { question, seed: options.seed >>> 0, draws: 0, forks: 0, segments: [], scored: [], withPrm: options.withPrm },
      null,
    );
    return { node, promptTokens: question.length, prmTokens: options.withPrm ? question.length : 0 };
  }

  async fork(parents: readonly NodeId[]): Promise<NodeId[]> {
    this.enter('fork');
    return parents.map((p) => {
      const s = this.state(p);
      return this.add(
        {
          ...s,
          seed: mix32(s.seed, ++s.forks),
          draws: 0,
          forks: 0,
          segments: [...s.segments],
          scored: [...s.scored],
        },
        p,
      );
    });
  }

  async release(nodes: readonly NodeId[]): Promise<void> {
    this.enter('release');
    for (const n of nodes) {
      this.state(n);
      this.live.delete(n);
    }
  }

  /** One sampled step from the script's options, by the node's seed and draw count. */
  private sample(s: NodeState, sampling: StepSampling): { step: ScriptStep; logprob: number } {
    const lastAppend = s.segments.map((g) => g.kind).lastIndexOf('append');
    const options = this.script
      .next({ question: s.question, segments: s.segments, attempt: s.segments.slice(lastAppend + 1).map((g) => g.text) })
      .filter((o) => o.p > 0);
    if (options.length === 0) throw new Error('script offers no next step');
    const total = options.reduce((a, o) => a + o.p, 0);
    const logprob = (o: ScriptStep) => Math.log(o.p / total);
    if (sampling.temperature === 0) {
      const best = options.reduce((b, o) => (o.p > b.p ? o : b));
      return { step: best, logprob: logprob(best) };
    }
    let pool = [...options].sort((a, b) => b.p - a.p);
    if (sampling.topK > 0) pool = pool.slice(0, sampling.topK);
    const weights = pool.map((o) => Math.pow(o.p, 1 / sampling.temperature));
    const wsum = weights.reduce((a, b) => a + b, 0);
    if (sampling.topP < 1) {
      let acc = 0;
      const keep = weights.findIndex((w) => (acc += w / wsum) >= sampling.topP);
      pool = pool.slice(0, keep + 1);
    }
    const ws = pool.map((o) => Math.pow(o.p, 1 / sampling.temperature));
    const sum = ws.reduce((a, b) => a + b, 0);
    const u = (mix32(s.seed, ++s.draws) + 0.5) / 4294967296;
    let acc = 0;
    for (let i = 0; i < pool.length; i++) {
      acc += ws[i]! / sum;
      if (u < acc) return { step: pool[i]!, logprob: logprob(pool[i]!) };
    }
    const last = pool[pool.length - 1]!;
    return { step: last, logprob: logprob(last) };
  }

  async generate(nodes: readonly NodeId[], sampling: StepSampling, signal?: AbortSignal): Promise<GeneratedStep[]> {
    this.enter('generate', signal);
    if (new Set(nodes).size !== nodes.length) throw new Error('generate got the same node twice');
    const call = { nodes: nodes.length, sampling: { ...sampling, stop: [...sampling.stop] }, tokens: 0 };
    this.generateCalls.push(call);
    return nodes.map((node) => {
      const s = this.state(node);
      const view = this.view(node);
      let text = '';
      let tokens = 0;
      let logprob = 0;
      let finish: GeneratedStep['finish'] = 'stop';
      // With stop strings: one scripted step. Without: steps until EOS (the rest of the solution).
      for (;;) {
        const { step, logprob: lp } = this.sample(s, sampling);
        const room = sampling.maxTokens - tokens;
        const t = tokensOf(step);
        if (t > room) {
          // Truncated at maxTokens (characters stand in for tokens when the script gives none).
          const cut = step.text.slice(0, step.tokens === undefined ? room : step.text.length);
          text += cut;
          tokens += room;
          s.segments.push({ kind: 'step', text: cut });
          finish = 'length';
          break;
        }
        text += step.text;
        tokens += t;
        logprob += lp;
        s.segments.push({ kind: 'step', text: step.text });
        if (step.eos) {
          finish = 'eos';
          break;
        }
        if (sampling.stop.length > 0) break;
        if (tokens === sampling.maxTokens) {
          finish = 'length';
          break;
        }
      }
      this.tokensGenerated += tokens;
      call.tokens += tokens;
      const out: GeneratedStep = { text, tokens, finish, logprob };
      this.generated.push({ node, view, sampling: { ...sampling, stop: [...sampling.stop] }, step: out });
      return out;
    });
  }

  async appendText(nodes: readonly NodeId[], texts: readonly string[]): Promise<number[]> {
    this.enter('appendText');
    return nodes.map((node, i) => {
      const s = this.state(node);
      s.segments.push({ kind: 'append', text: texts[i]! });
      this.appended.push({ node, text: texts[i]!, view: this.view(node) });
      return texts[i]!.length;
    });
  }

  async score(nodes: readonly NodeId[], steps: readonly string[], signal?: AbortSignal): Promise<ScoreResult> {
    this.enter('score', signal);
    const rewards: number[] = [];
    const tokens: number[] = [];
    nodes.forEach((node, i) => {
      const s = this.state(node);
      if (!s.withPrm) throw new Error(`node ${node} has no PRM context`);
      s.scored.push(steps[i]!);
      const reward = this.script.reward(s.question, s.scored);
      this.scoredLog.push({ node, scored: [...s.scored], reward });
      rewards.push(reward);
      tokens.push(steps[i]!.length);
    });
    return { rewards, tokens };
  }
}

/**
 * A small math-like script: `depth` reasoning steps with three options each (p = .5, .3, .2), then a
 * final step `\boxed{answer}` (EOS) whose answer is drawn from `answers`. Rewards are a fixed hash of
 * the scored path, distinct for distinct paths.
 */
export function treeScript(opts: { depth: number; answers: readonly { answer: string; p: number }[] }): Script {
  return {
    next(view) {
      const d = view.attempt.length;
      if (d < opts.depth) {
        return [
          { text: `s${d}a\n\n`, p: 0.5 },
          { text: `s${d}b\n\n`, p: 0.3 },
          { text: `s${d}c\n\n`, p: 0.2 },
        ];
      }
      return opts.answers.map((a) => ({ text: `So \\boxed{${a.answer}}`, p: a.p, eos: true }));
    },
    reward: (question, scored) => unitHash(`${question}|${scored.join('|')}`),
  };
}
