/**
 * What a pairs run produced, in numbers: prompts, samples kept and dropped (by reason), pairs, the
 * score margins of the pairs, and the lengths of thoughts and responses (in characters).
 */
import type { SplitFailure } from './split.js';

/** count, mean, min and max of some values (all 0 when there are none). */
export interface Stats {
  count: number;
  mean: number;
  min: number;
  max: number;
}

export function statsOf(values: readonly number[]): Stats {
  if (values.length === 0) return { count: 0, mean: 0, min: 0, max: 0 };
  let sum = 0, min = Infinity, max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { count: values.length, mean: sum / values.length, min, max };
}

/** One prompt's outcome, as makePairs records it for the summary. */
export interface PromptOutcome {
  samples: number;
  /** Samples without a valid split, by reason. */
  invalid: Partial<Record<SplitFailure, number>>;
  /** Thought and response lengths of the valid samples. */
  thoughtChars: number[];
  responseChars: number[];
  /** Judge scores of the valid samples. */
  scores: number[];
  /** The pair, or why there is none. */
  pair: { scoreMargin: number; rankedMargin: number; chosenResponseChars: number; rejectedResponseChars: number; chosenThoughtChars: number; rejectedThoughtChars: number } | 'too-few' | 'all-equal';
}

export interface PairsSummary {
  prompts: number;
  samples: number;
  validSamples: number;
  invalidSamples: Partial<Record<SplitFailure, number>>;
  pairs: number;
  /** Prompts with no pair: under two valid samples, or every valid sample scored the same. */
  droppedPrompts: { tooFew: number; allEqual: number };
  /** Mean judge score over the valid samples. */
  meanScore: number;
  /** Judge score margin (chosen − rejected) of the pairs, and the margin of the scores they were ranked by. */
  scoreMargin: Stats;
  rankedMargin: Stats;
  /** Over every valid sample. */
  thoughtChars: Stats;
  responseChars: Stats;
  /** Over the pairs' two sides. */
  chosenResponseChars: Stats;
  rejectedResponseChars: Stats;
  chosenThoughtChars: Stats;
  rejectedThoughtChars: Stats;
}

export function summarize(outcomes: readonly PromptOutcome[]): PairsSummary {
  const invalid: Partial<Record<SplitFailure, number>> = {};
  for (const o of outcomes) for (const [k, n] of Object.entries(o.invalid)) invalid[k as SplitFailure] = (invalid[k as SplitFailure] ?? 0) + (n ?? 0);
  const pairs = outcomes.flatMap((o) => (typeof o.pair === 'object' ? [o.pair] : []));
  const scores = outcomes.flatMap((o) => o.scores);
  return {
    prompts: outcomes.length,
    samples: outcomes.reduce((a, o) => a + o.samples, 0),
    validSamples: scores.length,
    invalidSamples: invalid,
    pairs: pairs.length,
    droppedPrompts: {
      tooFew: outcomes.filter((o) => o.pair === 'too-few').length,
      allEqual: outcomes.filter((o) => o.pair === 'all-equal').length,
    },
    meanScore: statsOf(scores).mean,
    scoreMargin: statsOf(pairs.map((p) => p.scoreMargin)),
    rankedMargin: statsOf(pairs.map((p) => p.rankedMargin)),
    thoughtChars: statsOf(outcomes.flatMap((o) => o.thoughtChars)),
    responseChars: statsOf(outcomes.flatMap((o) => o.responseChars)),
    chosenResponseChars: statsOf(pairs.map((p) => p.chosenResponseChars)),
    rejectedResponseChars: statsOf(pairs.map((p) => p.rejectedResponseChars)),
    chosenThoughtChars: statsOf(pairs.map((p) => p.chosenThoughtChars)),
    rejectedThoughtChars: statsOf(pairs.map((p) => p.rejectedThoughtChars)),
  };
}
