import type { Selection } from './strategy.js';

export interface Ballot {
  answer: string | null;
  /** Aggregated PRM score; null without a PRM. */
  score: number | null;
}

/** Groups candidate indices by equal answer (first occurrence first); candidates without an answer are left out. */
export function groupByAnswer(ballots: readonly Ballot[], equal: (a: string, b: string) => boolean): number[][] {
  const groups: number[][] = [];
  ballots.forEach((b, i) => {
    if (b.answer === null) return;
    const g = groups.find((members) => equal(ballots[members[0]!]!.answer!, b.answer!));
    if (g) g.push(i);
    else groups.push([i]);
  });
  return groups;
}

/** Highest score, first on ties; a null score ranks below every number. */
function best(ballots: readonly Ballot[], indices: readonly number[]): number {
  let pick = indices[0]!;
  for (const i of indices) {
    const s = ballots[i]!.score;
    const p = ballots[pick]!.score;
    if (s !== null && (p === null || s > p)) pick = i;
  }
  return pick;
}

/**
 * The index of the chosen candidate, or -1 when there is none.
 * - majority: the largest answer group (first group on ties), its first member (self-consistency).
 * - weighted: the answer group with the largest sum of scores (first on ties), its best-scored member
 *   (search-and-learn's find_answer_with_largest_sum).
 * - naive: the best-scored candidate.
 * Candidates without an extracted answer do not vote; when none has one, the best-scored candidate wins.
 */
export function select(
  ballots: readonly Ballot[],
  how: Selection,
  equal: (a: string, b: string) => boolean,
): number {
  if (ballots.length === 0) return -1;
  const all = ballots.map((_, i) => i);
  if (how === 'naive') return best(ballots, all);
  const groups = groupByAnswer(ballots, equal);
  if (groups.length === 0) return best(ballots, all);
  const weight = (g: number[]) =>
    how === 'majority' ? g.length : g.reduce((sum, i) => sum + (ballots[i]!.score ?? 0), 0);
  let top = groups[0]!;
  for (const g of groups) if (weight(g) > weight(top)) top = g;
  return how === 'majority' ? top[0]! : best(ballots, top);
}
