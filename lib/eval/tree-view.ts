/**
 * A compact text view of a search tree for the demo: one line per node, indented by depth, in
 * depth-first order, with the node's PRM score and what became of it:
 *   `*` on the chosen path, `+` kept (extended further, or a finished candidate), `x` pruned.
 */

import type { SearchResult, TreeNode } from '../search/types.js';

export type NodeFate = 'chosen' | 'kept' | 'pruned';

const MARK: Record<NodeFate, string> = { chosen: '*', kept: '+', pruned: 'x' };

export interface TreeViewOptions {
  /** Most lines; the rest is summarised in one line. @default 60 */
  maxLines?: number;
  /** Longest step text shown. @default 60 */
  maxStepChars?: number;
}

/** Step text on one line: whitespace runs collapsed, long text cut with an ellipsis. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The step texts from the root to each node, indexed by node id (rollout and prompt nodes contribute nothing). */
export function pathsOf(tree: readonly TreeNode[]): string[][] {
  const paths: string[][] = [];
  for (const node of tree) {
    const parent = node.parent === null ? [] : paths[node.parent]!;
    paths[node.id] = node.kind === 'step' ? [...parent, node.stepText] : parent;
  }
  return paths;
}

/** What became of every node of the search (indexed by node id). */
export function nodeFates(result: Pick<SearchResult, 'tree' | 'candidates' | 'completion'>): NodeFate[] {
  const { tree } = result;
  // A lookahead rollout hangs under every candidate it valued, kept or pruned: it does not extend one.
  const hasChildren = new Set(tree.filter((n) => n.parent !== null && n.kind !== 'rollout').map((n) => n.parent!));
  const paths = pathsOf(tree);
  const candidateTexts = new Set(result.candidates.map((c) => c.steps.join('\u0000')));
  const fates: NodeFate[] = tree.map((n) =>
    hasChildren.has(n.id) || (n.kind === 'step' && candidateTexts.has(paths[n.id]!.join('\u0000'))) ? 'kept' : 'pruned',
  );
  // The chosen path: the first deepest node whose path is the completion's steps, and its ancestors.
  const chosen = result.completion?.steps.join('\u0000');
  if (chosen !== undefined) {
    const end = tree.find((n) => n.kind === 'step' && !hasChildren.has(n.id) && paths[n.id]!.join('\u0000') === chosen);
    for (let id = end?.id ?? null; id !== null; id = tree[id]!.parent) fates[id] = 'chosen';
  }
  return fates;
}

export function renderTree(result: Pick<SearchResult, 'tree' | 'candidates' | 'completion'>, options: TreeViewOptions = {}): string {
  const maxLines = options.maxLines ?? 60;
  const maxChars = options.maxStepChars ?? 60;
  const { tree } = result;
  const fates = nodeFates(result);
  const children = new Map<number, number[]>();
  for (const n of tree) if (n.parent !== null) children.set(n.parent, [...(children.get(n.parent) ?? []), n.id]);
  const lines: string[] = [];
  const visit = (id: number, indent: number) => {
    const n = tree[id]!;
    if (n.kind === 'root') {
      lines.push('(question)');
    } else {
      const score = n.prmScore === null ? '  -  ' : n.prmScore.toFixed(3);
      const kind = n.kind === 'step' ? '' : `[${n.kind}] `;
      lines.push(`${'  '.repeat(indent)}${MARK[fates[id]!]} ${score} ${kind}${oneLine(n.stepText, maxChars)}`);
    }
    for (const c of children.get(id) ?? []) visit(c, indent + 1);
  };
  for (const n of tree) if (n.parent === null) visit(n.id, 0);
  if (lines.length > maxLines) {
    const rest = lines.length - maxLines;
    return [...lines.slice(0, maxLines), `… ${rest} more node${rest === 1 ? '' : 's'}`].join('\n');
  }
  return lines.join('\n');
}
