import { describe, expect, it } from 'vitest';
import { nodeFates, oneLine, renderTree } from '../../lib/eval/tree-view.js';
import type { SearchResult, TreeNode } from '../../lib/search/types.js';

function node(id: number, parent: number | null, stepText: string, prmScore: number | null, depth: number): TreeNode {
  return { id, parent, kind: parent === null ? 'root' : 'step', stepText, prmScore, tokens: 1, depth, finish: null, group: null };
}

// Beam search, 2 beams kept of 4: root → a, b, c, d; a → a1, a2; b → b1 (same text as a1), b2.
// Candidates: a1 (chosen) and b2; a2 and b1's texts do not end a candidate path.
const tree: TreeNode[] = [
  node(0, null, '', null, 0),
  node(1, 0, '1 + 1 = 2\n\n', 0.9, 1),
  node(2, 0, '1 + 1 = 3\n\n', 0.2, 1),
  node(3, 0, '1 + 1 = 2\n\n', 0.8, 1),
  node(4, 0, '1 - 1 = 0\n\n', 0.1, 1),
  node(5, 1, 'The answer is \\boxed{2}.', 0.95, 2),
  node(6, 1, 'The answer is \\boxed{4}.', 0.3, 2),
  node(7, 3, 'The answer is \\boxed{5}.', 0.4, 2),
  node(8, 3, '2 * 1 = 2\n\n', 0.7, 2),
];
const cand = (steps: string[]) => ({ text: steps.join(''), steps, stepScores: [], aggregatedScore: null, answer: null, finished: true });
const result: Pick<SearchResult, 'tree' | 'candidates' | 'completion'> = {
  tree,
  candidates: [cand([tree[1]!.stepText, tree[5]!.stepText]), cand([tree[3]!.stepText, tree[8]!.stepText])],
  completion: { text: '', steps: [tree[1]!.stepText, tree[5]!.stepText], stepScores: [0.9, 0.95], score: 0.95 },
};

describe('nodeFates', () => {
  it('marks the chosen path, nodes extended or ending a candidate as kept, and the rest pruned', () => {
    expect(nodeFates(result)).toEqual(['chosen', 'chosen', 'pruned', 'kept', 'pruned', 'chosen', 'pruned', 'pruned', 'kept']);
  });

  it('does not count a lookahead rollout as extending the candidate it valued', () => {
    // Before the second iteration, the rollouts under c and d (nodes 3, 4) valued them; neither was kept.
    const rollout = (id: number, parent: number): TreeNode => ({ ...node(id, parent, '2 + 2 = 4\n\n', 0.5, 2), kind: 'rollout' });
    const withRollouts = { ...result, candidates: [result.candidates[0]!], tree: [...tree.slice(0, 7), rollout(7, 3), rollout(8, 4)] };
    expect(nodeFates(withRollouts)).toEqual(['chosen', 'chosen', 'pruned', 'pruned', 'pruned', 'chosen', 'pruned', 'pruned', 'pruned']);
  });
});

describe('renderTree', () => {
  it('prints one line per node, depth-first, indented, with mark and score', () => {
    expect(renderTree(result).split('\n')).toEqual([
      '(question)',
      '  * 0.900 1 + 1 = 2',
      '    * 0.950 The answer is \\boxed{2}.',
      '    x 0.300 The answer is \\boxed{4}.',
      '  x 0.200 1 + 1 = 3',
      '  + 0.800 1 + 1 = 2',
      '    x 0.400 The answer is \\boxed{5}.',
      '    + 0.700 2 * 1 = 2',
      '  x 0.100 1 - 1 = 0',
    ]);
  });

  it('summarises the nodes beyond maxLines in one line', () => {
    const lines = renderTree(result, { maxLines: 4 }).split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe('… 5 more nodes');
  });
});

describe('oneLine', () => {
  it('collapses whitespace and cuts long text with an ellipsis', () => {
    expect(oneLine(' a\n\nb  c ', 10)).toBe('a b c');
    expect(oneLine('abcdefghijk', 5)).toBe('abcd…');
  });
});
