// Search results built by hand, for viewer tests that need a shape no demo search makes.
import type { Candidate, SearchResult, TreeNode } from '../../lib/search/types.js';

/** A tiny deterministic generator (mulberry32), so a synthetic tree is the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The tree of beam search at N beams of width M over `depth` steps: N children of the root, then at each
 * depth the N/M best are kept and expanded M ways. 1 + N × depth nodes; the last layer are the candidates.
 */
export function beamLikeResult(n: number, m: number, depth: number, seed = 1): SearchResult {
  const rand = random(seed);
  const tree: TreeNode[] = [{ id: 0, parent: null, kind: 'root', stepText: '', prmScore: null, tokens: 0, logprob: 0, depth: 0, finish: null, group: null }];
  const add = (parent: number, d: number): number => {
    const id = tree.length;
    const last = d === depth;
    const a = Math.floor(rand() * 90) + 10;
    const b = Math.floor(rand() * 90) + 10;
    const stepText = last ? `The answer is \\boxed{${a + b}}.` : `${a} + ${b} = ${a + b}\n\n`;
    tree.push({ id, parent, kind: 'step', stepText, prmScore: rand(), tokens: 6 + Math.floor(rand() * 6), logprob: -rand() * 4, depth: d, finish: last ? 'eos' : 'stop', group: null });
    return id;
  };
  let layer = Array.from({ length: n }, () => add(0, 1));
  for (let d = 2; d <= depth; d++) {
    const kept = [...layer].sort((x, y) => tree[y]!.prmScore! - tree[x]!.prmScore!).slice(0, n / m);
    layer = kept.flatMap((p) => Array.from({ length: m }, () => add(p, d)));
  }
  const path = (id: number): TreeNode[] => (tree[id]!.parent === null ? [] : [...path(tree[id]!.parent!), tree[id]!]);
  const candidates: Candidate[] = layer.map((id) => {
    const steps = path(id);
    const scores = steps.map((s) => s.prmScore!);
    const text = steps.map((s) => s.stepText).join('');
    return { text, steps: steps.map((s) => s.stepText), stepScores: scores, aggregatedScore: Math.min(...scores), answer: /\\boxed\{(\d+)\}/.exec(text)![1]!, finished: true };
  });
  const best = candidates.reduce((i, c, j) => (c.aggregatedScore! > candidates[i]!.aggregatedScore! ? j : i), 0);
  const chosen = candidates[best]!;
  return {
    strategy: 'beam',
    answer: chosen.answer,
    completion: { text: chosen.text, steps: chosen.steps, stepScores: chosen.stepScores, score: chosen.aggregatedScore },
    candidates,
    tree,
    usage: { generations: n, policySteps: n * depth, policyTokensGenerated: 8 * n * depth, policyTokensPrefilled: 40, prmTokensScored: 9 * n * depth, flops: 3.2e10, wallMs: 1234 },
    stopReason: 'done',
  };
}
