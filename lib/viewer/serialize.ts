/**
 * The search-tree JSON format, version 1: a whole search (every node with its fate, the candidates, the
 * vote over their answers, usage and options) as plain JSON. `thinktree search --json` writes it, the
 * HTML viewer reads it, and `schema/search-tree.v1.schema.json` (shipped in the package) describes it.
 */

import { fileURLToPath } from 'node:url';
import { aggregateScores, type Aggregation } from '../search/aggregate.js';
import type { SearchResult, StrategyName, TreeNode, TreeNodeKind, Usage } from '../search/types.js';
import { groupByAnswer } from '../search/vote.js';
import { mathTask } from '../tasks/math/task.js';
import type { Task } from '../tasks/task.js';
import { nodeFates, pathsOf } from '../eval/tree-view.js';

export const SEARCH_TREE_FORMAT = 'thinktree.search-tree';
export const SEARCH_TREE_VERSION = 1;
/** The JSON Schema of this format, shipped in the package (this file is lib/viewer/ or dist/viewer/). */
export const SEARCH_TREE_SCHEMA = fileURLToPath(new URL('../../schema/search-tree.v1.schema.json', import.meta.url));

/**
 * What became of a node: `chosen` on the chosen path; `finished` ends a candidate that was not chosen;
 * `kept` was extended further; `pruned` was dropped (a lookahead rollout is always `pruned`).
 */
export type SearchNodeFate = 'chosen' | 'finished' | 'kept' | 'pruned';

export interface SearchTreeNode {
  id: number;
  /** The parent's id; null for the root. */
  parent: number | null;
  kind: TreeNodeKind;
  /** Steps from the root. */
  depth: number;
  /** The step's text (for a prompt node: the appended text; for the root: ''). */
  text: string;
  /** The PRM's score of this step; null where nothing scored it. */
  reward: number | null;
  /** The rewards of this node's attempt up to here, aggregated as the search aggregates them. */
  value: number | null;
  /** Policy tokens generated for this step. */
  tokens: number;
  /** Sum of the step tokens' log-probabilities (0 for the root and prompt nodes). */
  logprob: number;
  /** Why generation stopped: 'stop' (step separator), 'eos', 'length'; null for the root and prompts. */
  finish: 'stop' | 'eos' | 'length' | null;
  /** DVTS subtree, sample or revision chain; null where the strategy has no groups. */
  group: number | null;
  fate: SearchNodeFate;
  /** MCTS statistics, only for MCTS. */
  mcts?: { visits: number; value: number; prior: number };
}

export interface SearchTreeCandidate {
  text: string;
  steps: string[];
  stepScores: number[];
  /** stepScores aggregated; null without scores. */
  score: number | null;
  answer: string | null;
  finished: boolean;
  /** The tree node the candidate's path ends at; null when no node matches (a revision's text). */
  node: number | null;
  chosen: boolean;
}

/** One answer and the candidates that gave it (grouped by the task's answer equality). */
export interface SearchTreeVote {
  answer: string;
  /** Candidate indices. */
  candidates: number[];
  count: number;
  /** Sum of the candidates' scores (null scores count 0). */
  scoreSum: number;
  chosen: boolean;
}

export interface SearchTreeOptions {
  strategy: StrategyName;
  aggregation: Aggregation;
  /** Further search options as given (n, beamWidth, seed, temperature, ...): numbers, strings, booleans. */
  [name: string]: string | number | boolean | null;
}

export interface SearchTreeJson {
  format: typeof SEARCH_TREE_FORMAT;
  version: typeof SEARCH_TREE_VERSION;
  question: string;
  answer: string | null;
  completion: SearchResult['completion'];
  stopReason: SearchResult['stopReason'];
  /** Model ids, where known. */
  models: { policy: string | null; prm: string | null };
  options: SearchTreeOptions;
  /** Every node, indexed by id (the root is 0). */
  nodes: SearchTreeNode[];
  candidates: SearchTreeCandidate[];
  vote: SearchTreeVote[];
  usage: Usage;
}

export interface SerializeOptions {
  question: string;
  /** The options the search ran with; primitive values are recorded, others (backend, signal, callbacks) left out. */
  searchOptions: Record<string, unknown> & { aggregation: Aggregation };
  models?: { policy?: string | null; prm?: string | null };
  /** Groups answers in the vote. @default mathTask */
  task?: Task;
}

/** The primitive-valued options, in a stable order. */
function recordedOptions(strategy: StrategyName, options: SerializeOptions['searchOptions']): SearchTreeOptions {
  const out: SearchTreeOptions = { strategy, aggregation: options.aggregation };
  for (const key of Object.keys(options).sort()) {
    const v = options[key];
    if (key === 'strategy' || key === 'aggregation') continue;
    if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) out[key] = v;
  }
  return out;
}

/** Each node's attempt rewards (from the root or the last prompt node), aggregated. */
function nodeValues(tree: readonly TreeNode[], aggregation: Aggregation): (number | null)[] {
  const scores: number[][] = [];
  for (const n of tree) {
    const inherited = n.parent === null || n.kind === 'prompt' ? [] : scores[n.parent]!;
    scores[n.id] = n.kind === 'step' && n.prmScore !== null ? [...inherited, n.prmScore] : inherited;
  }
  return tree.map((n) => (n.kind === 'step' ? aggregateScores(scores[n.id]!, aggregation) : null));
}

/** The node each candidate ends at: a childless step whose path is its steps, each node used once. */
function candidateNodes(result: SearchResult, hasChildren: Set<number>): (number | null)[] {
  const paths = pathsOf(result.tree);
  const used = new Set<number>();
  return result.candidates.map((c) => {
    const key = c.steps.join('\u0000');
    const ends = result.tree.filter((n) => n.kind === 'step' && !hasChildren.has(n.id) && paths[n.id]!.join('\u0000') === key);
    const end = ends.find((n) => !used.has(n.id)) ?? ends[0];
    if (end === undefined) return null;
    used.add(end.id);
    return end.id;
  });
}

/** The whole search as version-1 search-tree JSON (see the module comment). */
export function serializeSearch(result: SearchResult, options: SerializeOptions): SearchTreeJson {
  const task = options.task ?? mathTask;
  const { tree } = result;
  const aggregation = options.searchOptions.aggregation;
  const hasChildren = new Set(tree.filter((n) => n.parent !== null && n.kind !== 'rollout').map((n) => n.parent!));
  const fates: SearchNodeFate[] = nodeFates(result);
  const values = nodeValues(tree, aggregation);
  const ends = candidateNodes(result, hasChildren);
  for (const id of ends) if (id !== null && fates[id] === 'kept') fates[id] = 'finished';

  const chosenText = result.completion?.text;
  const chosenIndex = chosenText === undefined ? -1 : result.candidates.findIndex((c) => c.text === chosenText && c.answer === result.answer);
  const groups = groupByAnswer(
    result.candidates.map((c) => ({ answer: c.answer, score: c.aggregatedScore })),
    (a, b) => task.answersEqual(a, b),
  );

  return {
    format: SEARCH_TREE_FORMAT,
    version: SEARCH_TREE_VERSION,
    question: options.question,
    answer: result.answer,
    completion: result.completion,
    stopReason: result.stopReason,
    models: { policy: options.models?.policy ?? null, prm: options.models?.prm ?? null },
    options: recordedOptions(result.strategy, options.searchOptions),
    nodes: tree.map((n, i) => {
      const out: SearchTreeNode = {
        id: n.id,
        parent: n.parent,
        kind: n.kind,
        depth: n.depth,
        text: n.stepText,
        reward: n.prmScore,
        value: values[i]!,
        tokens: n.tokens,
        logprob: n.logprob,
        finish: n.finish,
        group: n.group,
        fate: fates[i]!,
      };
      if (n.visits !== undefined) out.mcts = { visits: n.visits, value: n.value ?? 0, prior: n.prior ?? 0 };
      return out;
    }),
    candidates: result.candidates.map((c, i) => ({
      text: c.text,
      steps: c.steps,
      stepScores: c.stepScores,
      score: c.aggregatedScore,
      answer: c.answer,
      finished: c.finished,
      node: ends[i]!,
      chosen: i === chosenIndex,
    })),
    vote: groups.map((g) => ({
      answer: result.candidates[g[0]!]!.answer!,
      candidates: g,
      count: g.length,
      scoreSum: g.reduce((s, i) => s + (result.candidates[i]!.aggregatedScore ?? 0), 0),
      chosen: g.includes(chosenIndex),
    })),
    usage: { ...result.usage },
  };
}

/** The JSON text, for a file or an HTML page (two-space indentation, newline at the end). */
export function searchJsonText(json: SearchTreeJson): string {
  return `${JSON.stringify(json, null, 2)}\n`;
}
