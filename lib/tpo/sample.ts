/**
 * K outputs of one prompt through a SearchBackend: one root prefilled once, K forks sharing its KV
 * pages, one generate call to EOS for all of them (a native backend merges the calls of concurrent
 * prompts into shared batches; a remote one sends each fork's request to the server).
 */
import type { NodeId, SearchBackend, StepFinish, StepSampling } from '../backends/types.js';

export interface SampledOutput {
  /** Everything the model wrote (EOS not included). */
  text: string;
  /** Tokens generated. */
  tokens: number;
  finish: StepFinish;
}

export interface SampleRequest {
  /** The user turn (the backend applies the chat template). */
  userTurn: string;
  /** Text the assistant turn starts with before generation (e.g. a direct-answer prefix); it is not part of `text`. */
  assistantPrefix?: string;
  /** Outputs to draw. */
  count: number;
  /** Root seed; forks derive theirs from it. */
  seed: number;
}

/** `count` outputs for one prompt; every node made here is released before it resolves. */
export async function sampleOutputs(
  backend: SearchBackend,
  request: SampleRequest,
  sampling: Omit<StepSampling, 'stop'>,
  signal?: AbortSignal,
): Promise<SampledOutput[]> {
  const root = await backend.createRoot(request.userTurn, { seed: request.seed, withPrm: false, signal });
  let nodes: NodeId[] = [];
  try {
    if (request.assistantPrefix !== undefined && request.assistantPrefix !== '') await backend.appendText([root.node], [request.assistantPrefix]);
    // A single greedy output needs no fork.
    nodes = request.count === 1 ? [root.node] : await backend.fork(new Array<NodeId>(request.count).fill(root.node));
    const steps = await backend.generate(nodes, { ...sampling, stop: [] }, signal);
    return steps.map((s) => ({ text: s.text, tokens: s.tokens, finish: s.finish }));
  } finally {
    await backend.release(nodes.includes(root.node) ? nodes : [root.node, ...nodes]);
  }
}
