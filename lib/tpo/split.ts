/**
 * Splitting a sampled output into its thought and its response at the prompt's marker. An output the
 * model did not write in the asked format has no valid split: it is dropped (and counted), never
 * judged, as in the paper.
 */

/** Why an output has no valid split. */
export type SplitFailure =
  /** The marker never appears: no response. */
  | 'missing-marker'
  /** The marker appears more than once: which part is the response is ambiguous. */
  | 'repeated-marker'
  /** Nothing but whitespace follows the marker. */
  | 'empty-response'
  /** The output stopped at the token limit, so the response may be cut short. */
  | 'truncated';

export const SPLIT_FAILURES: readonly SplitFailure[] = ['missing-marker', 'repeated-marker', 'empty-response', 'truncated'];

export type ThoughtSplit =
  | {
      ok: true;
      /** Text before the marker, trimmed (may be empty: the model answered without thinking). */
      thought: string;
      /** Text after the marker, trimmed: what the judge reads. */
      response: string;
    }
  | { ok: false; reason: SplitFailure };

/**
 * Splits `output` at `marker`. `truncated`: the output ended at the token limit (it is then invalid
 * whatever it holds).
 */
export function splitThought(output: string, marker: string, truncated = false): ThoughtSplit {
  if (marker === '') throw new TypeError('splitThought needs a non-empty marker');
  if (truncated) return { ok: false, reason: 'truncated' };
  const at = output.indexOf(marker);
  if (at < 0) return { ok: false, reason: 'missing-marker' };
  if (output.indexOf(marker, at + marker.length) >= 0) return { ok: false, reason: 'repeated-marker' };
  const response = output.slice(at + marker.length).trim();
  if (response === '') return { ok: false, reason: 'empty-response' };
  return { ok: true, thought: output.slice(0, at).trim(), response };
}
