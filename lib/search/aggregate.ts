/**
 * Aggregation of a path's PRM step scores into one number (Snell et al. 2024 find `last` works best with
 * a PRM trained on per-step correctness; search-and-learn offers last, min and prod).
 */

export const AGGREGATIONS = ['last', 'min', 'prod', 'mean'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export function isAggregation(name: unknown): name is Aggregation {
  return typeof name === 'string' && (AGGREGATIONS as readonly string[]).includes(name);
}

/** One score for a path; null for a path without scores (nothing scored, or no PRM). */
export function aggregateScores(scores: readonly number[], how: Aggregation): number | null {
  if (scores.length === 0) return null;
  switch (how) {
    case 'last':
      return scores[scores.length - 1]!;
    case 'min':
      return Math.min(...scores);
    case 'prod':
      return scores.reduce((p, s) => p * s, 1);
    case 'mean':
      return scores.reduce((p, s) => p + s, 0) / scores.length;
  }
}
