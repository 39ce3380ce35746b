import type { TreeNode } from '../../lib/search/types.js';

/** Step texts from the root to `id` (only 'step' nodes, across prompts: the whole policy path). */
export function stepPath(tree: readonly TreeNode[], id: number): string[] {
  const out: string[] = [];
  for (let n: TreeNode | undefined = tree[id]; n !== undefined && n.parent !== null; n = tree[n.parent]) {
    if (n.kind === 'step') out.push(n.stepText);
  }
  return out.reverse();
}

/** Texts along the path including rollout nodes (what the PRM scored on that branch). */
export function scoredPath(tree: readonly TreeNode[], id: number): string[] {
  const out: string[] = [];
  for (let n: TreeNode | undefined = tree[id]; n !== undefined && n.parent !== null; n = tree[n.parent]) {
    if (n.kind === 'step' || n.kind === 'rollout') out.push(n.stepText);
  }
  return out.reverse();
}

export function childrenOf(tree: readonly TreeNode[], id: number): TreeNode[] {
  return tree.filter((n) => n.parent === id);
}

/** Sorted copy, for comparing multisets. */
export const sorted = <T>(xs: readonly T[]): T[] => [...xs].sort();
