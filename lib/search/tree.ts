import type { NodeId, StepFinish } from '../backends/types.js';
import { aggregateScores, type Aggregation } from './aggregate.js';
import type { Task } from '../tasks/task.js';
import type { Candidate, TreeNode, TreeNodeKind } from './types.js';

/**
 * One node of the search tree as the strategies see it. Records are never removed: pruned nodes stay
 * (the tree in the result lists them); only their backend handles are released.
 */
export interface PathNode {
  readonly id: number;
  readonly parent: PathNode | null;
  readonly kind: TreeNodeKind;
  readonly stepText: string;
  readonly tokens: number;
  readonly finish: StepFinish | null;
  /** Sum of the step tokens' log-probabilities (0 for non-step nodes). */
  readonly logprob: number;
  readonly depth: number;
  /** Steps since the start of this attempt (the root or the last prompt node). */
  readonly attemptDepth: number;
  /** Policy tokens generated in this attempt up to and including this step. */
  readonly attemptTokens: number;
  readonly group: number | null;
  /** Whether the path ends here (EOS, length, empty step, final answer, or a solution limit). */
  readonly finished: boolean;
  prmScore: number | null;
  /** Live policy handle; null once released, or once an in-place extension moved it to the child. */
  handle: NodeId | null;
  /** Live PRM handle when it differs from `handle` (a revision attempt is scored without its history). */
  prmHandle: NodeId | null;
  /** Policy tokens in context after this node, prompt included (for attention FLOPs). */
  policyContext: number;
  /** PRM tokens in context after this node. */
  prmContext: number;
  visits?: number;
  value?: number;
  prior?: number;
}

export type NewNode = Omit<PathNode, 'id' | 'prmScore' | 'prmHandle'> & { prmHandle?: NodeId | null };

/** Owns the records of one search; ids are indices, the root is 0. */
export class SearchTree {
  readonly nodes: PathNode[] = [];

  add(node: NewNode): PathNode {
    const rec: PathNode = { prmHandle: null, ...node, id: this.nodes.length, prmScore: null };
    this.nodes.push(rec);
    return rec;
  }

  records(): TreeNode[] {
    return this.nodes.map((n) => {
      const out: TreeNode = {
        id: n.id,
        parent: n.parent === null ? null : n.parent.id,
        kind: n.kind,
        stepText: n.stepText,
        prmScore: n.prmScore,
        tokens: n.tokens,
        logprob: n.logprob,
        depth: n.depth,
        finish: n.finish,
        group: n.group,
      };
      if (n.visits !== undefined) out.visits = n.visits;
      if (n.value !== undefined) out.value = n.value;
      if (n.prior !== undefined) out.prior = n.prior;
      return out;
    });
  }
}

/** The step nodes of this node's attempt, first to last (rollouts, prompts and the root excluded). */
export function attemptSteps(node: PathNode): PathNode[] {
  const out: PathNode[] = [];
  for (let n: PathNode | null = node; n !== null && n.kind !== 'prompt' && n.kind !== 'root'; n = n.parent) {
    if (n.kind === 'step') out.push(n);
  }
  return out.reverse();
}

/** The PRM scores along this node's attempt (steps that were never scored are skipped). */
export function attemptScores(node: PathNode): number[] {
  return attemptSteps(node)
    .map((s) => s.prmScore)
    .filter((s): s is number => s !== null);
}

export function pathText(node: PathNode): string {
  return attemptSteps(node)
    .map((s) => s.stepText)
    .join('');
}

export function toCandidate(node: PathNode, task: Task, aggregation: Aggregation): Candidate {
  const steps = attemptSteps(node).map((s) => s.stepText);
  const stepScores = attemptScores(node);
  const text = steps.join('');
  return {
    text,
    steps,
    stepScores,
    aggregatedScore: aggregateScores(stepScores, aggregation),
    answer: task.extractAnswer(text),
    finished: node.finished,
  };
}
