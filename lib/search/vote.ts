import type { Selection } from './strategy.js';

export interface Ballot {
  answer: string | null;
  /** Aggregated PRM score; null without a PRM. */
  score: number | null;
}

/**
 * Groups candidate indices by equal answer (groups in order of their first member, members in index order);
 * candidates without an answer are left out. Answers are bucketed by `key` first (equal keys must mean
 * equal answers: the task's string-normalised form), then buckets whose first answers are `equal` merge,
 * each bucket into the earliest group it equals, so `equal` runs once per pair of distinct keys at most
 * and the grouping depends on nothing but the order of the ballots.
 */
export function groupByAnswer(
  ballots: readonly Ballot[],
  equal: (a: string, b: string) => boolean,
  key: (answer: string) => string = (a) => a,
): number[][] {
  const buckets = new Map<string, number[]>();
  ballots.forEach((b, i) => {
    if (b.answer === null) return;
    const k = key(b.answer);
    const bucket = buckets.get(k);
    if (bucket) bucket.push(i);
    else buckets.set(k, [i]);
  });
  const groups: { answer: string; members: number[] }[] = [];
  for (const members of buckets.values()) {
    const answer = ballots[members[0]!]!.answer!;
    const g = groups.find((group) => equal(group.answer, answer));
    if (g) g.members.push(...members);
    else groups.push({ answer, members });
  }
  return groups.map((g) => g.members.sort((x, y) => x - y));
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
 * Answers are grouped by `groupByAnswer` (with the task's `answersEqual` and `answerKey`).
 */
export function select(
  ballots: readonly Ballot[],
  how: Selection,
  equal: (a: string, b: string) => boolean,
  key?: (answer: string) => string,
): number {
  if (ballots.length === 0) return -1;
  const all = ballots.map((_, i) => i);
  if (how === 'naive') return best(ballots, all);
  const groups = groupByAnswer(ballots, equal, key);
  if (groups.length === 0) return best(ballots, all);
  const weight = (g: number[]) =>
    how === 'majority' ? g.length : g.reduce((sum, i) => sum + (ballots[i]!.score ?? 0), 0);
  let top = groups[0]!;
  for (const g of groups) if (weight(g) > weight(top)) top = g;
  return how === 'majority' ? top[0]! : best(ballots, top);
}
