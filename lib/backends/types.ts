/**
 * The seam between search strategies and whatever runs the models. A strategy sees nodes, step texts
 * and rewards, never a tensor. The backends live beside this port: native.ts runs the models in process
 * (policy and PRM sequences sharing KV pages across the tree, requests merged by step-batcher.ts); a
 * remote OpenAI-compatible server implements it too (remote.ts: vLLM, SGLang, thinktree serve); tests use
 * a scripted backend whose step distributions and scores are known.
 */

/** Opaque id of a search-tree node in a backend: a policy context and, when scored, a PRM context. */
export type NodeId = number & { readonly __node: never };

export interface StepSampling {
  /** 0 is greedy. */
  temperature: number;
  /** 1 disables. */
  topP: number;
  /** 0 disables. */
  topK: number;
  /** Most tokens one step may generate. */
  maxTokens: number;
  /** Strings that end a step (kept in the step text); empty = generate to EOS or maxTokens. */
  stop: readonly string[];
}

export type StepFinish = 'stop' | 'eos' | 'length';

export interface GeneratedStep {
  /** The step's text, stop string included. */
  text: string;
  /** Policy tokens generated for this step. */
  tokens: number;
  finish: StepFinish;
  /** Sum of the step tokens' log-probabilities. */
  logprob: number;
  /**
   * Prompt tokens computed to generate this step beyond what the backend held: a server sent the node's
   * whole text prefills it again (all of it, or past its prefix cache's `context` tokens). Absent for a
   * backend that holds each node's KV (native).
   */
  prefilled?: { tokens: number; context: number };
}

export interface RootInfo {
  node: NodeId;
  /** Policy tokens prefilled for the prompt. */
  promptTokens: number;
  /** PRM tokens prefilled for the question (0 when the root has no PRM context). */
  prmTokens: number;
}

export interface ScoreResult {
  /** Reward of the newest step of each node, a probability in [0, 1]. */
  rewards: number[];
  /** PRM tokens processed for each node by this call. */
  tokens: number[];
}

export interface BackendModelInfo {
  /** Parameter counts for FLOPs estimates (2 × params per token, plus attention). */
  policyParams: number;
  prmParams: number;
  /** Layers × hidden size of each model (attention FLOPs per token-pair: 4 × layers × hidden). */
  policyAttentionWidth: number;
  prmAttentionWidth: number;
  /**
   * Identities of the models (e.g. Hugging Face repo id and revision), so that a compute-optimal
   * calibration table made for other models is refused. A backend without a PRM reports prmParams 0.
   */
  policyId?: string;
  prmId?: string;
}

export interface SearchBackend {
  readonly info: BackendModelInfo;
  /**
   * A root node for a question: the policy prompt (chat-formatted by the backend) is queued for
   * prefill and, when `withPrm`, the PRM context of the question is prefilled. `seed` keys the node's
   * sampler; forks derive their seeds from the parent deterministically.
   */
  createRoot(question: string, options: { seed: number; withPrm: boolean; signal?: AbortSignal }): Promise<RootInfo>;
  /** One child per entry of `parents` (repeat a parent to fork it several times); children share KV. */
  fork(parents: readonly NodeId[]): Promise<NodeId[]>;
  /** Releases nodes; KV pages whose last owner is gone return to the pool. */
  release(nodes: readonly NodeId[]): Promise<void>;
  /** Extends every node by one step of policy text, in place. */
  generate(nodes: readonly NodeId[], sampling: StepSampling, signal?: AbortSignal): Promise<GeneratedStep[]>;
  /** Appends text to the policy context of each node without generating (e.g. a revision prompt). */
  appendText(nodes: readonly NodeId[], texts: readonly string[]): Promise<number[]>;
  /**
   * Scores the newest step of each node: the step text is appended to the node's PRM context (after
   * the steps scored before on its path) and the reward at the step's end is returned.
   */
  score(nodes: readonly NodeId[], steps: readonly string[], signal?: AbortSignal): Promise<ScoreResult>;
}
