/**
 * Choosing the preference pair of one prompt: its best-scored sample against its worst (the paper's
 * section 2.2). A prompt whose valid samples all score the same teaches nothing and gives no pair.
 */

export type PairChoice =
  | { ok: true; chosen: number; rejected: number }
  | {
      ok: false;
      /** 'too-few': under two valid samples; 'all-equal': every valid sample has the same score. */
      reason: 'too-few' | 'all-equal';
    };

/**
 * Indices of the highest and lowest of `scores` (one per valid sample). Ties go to the earliest
 * sample, so the choice is deterministic given the sampling seeds.
 */
export function choosePair(scores: readonly number[]): PairChoice {
  if (scores.length < 2) return { ok: false, reason: 'too-few' };
  let best = 0;
  let worst = 0;
  for (let i = 1; i < scores.length; i++) {
    if (scores[i]! > scores[best]!) best = i;
    if (scores[i]! < scores[worst]!) worst = i;
  }
  if (!(scores[best]! > scores[worst]!)) return { ok: false, reason: 'all-equal' };
  return { ok: true, chosen: best, rejected: worst };
}
