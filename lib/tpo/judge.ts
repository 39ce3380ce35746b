/**
 * What judges a response. A judge is handed the instruction and the response alone: the sample's
 * thought is not part of JudgeItem, so no judge can read it (the paper's point: the thought is
 * optimised only through the response it leads to).
 */

export interface JudgeItem {
  /** The instruction as the user wrote it, without the thought prompt around it. */
  instruction: string;
  /** The response: the sample's text after the marker. */
  response: string;
  /** The reference answer, for judges that grade against one (the task checker). */
  reference?: string;
}

export interface ResponseJudge {
  /** One line for summaries ('task checker', 'ORM <dir>', …). */
  readonly name: string;
  /** One finite score per item, higher is better. */
  score(items: readonly JudgeItem[], signal?: AbortSignal): Promise<number[]>;
}

/** A judge's scores, checked: one finite number per item, or an Error naming the judge. */
export async function judgeScores(judge: ResponseJudge, items: readonly JudgeItem[], signal?: AbortSignal): Promise<number[]> {
  if (items.length === 0) return [];
  const scores = await judge.score(items, signal);
  if (!Array.isArray(scores) || scores.length !== items.length) {
    throw new Error(`judge ${judge.name} returned ${Array.isArray(scores) ? scores.length : 'no'} scores for ${items.length} responses`);
  }
  const bad = scores.findIndex((s) => typeof s !== 'number' || !Number.isFinite(s));
  if (bad >= 0) throw new Error(`judge ${judge.name} returned a non-finite score (${scores[bad]}) for response ${bad}`);
  return scores;
}
