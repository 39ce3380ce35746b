/**
 * User callbacks (progress reports) must never break the work they report on: a load that is 90% done
 * is not thrown away because a progress bar threw. A callback that throws is reported once, as a
 * process warning naming the option and the error, and then dropped for the rest of the operation.
 */

/** Warning code of a dropped callback, for `process.on('warning')` listeners. */
export const CALLBACK_WARNING_CODE = 'THINKTREE_CALLBACK_THREW';

/**
 * `cb` wrapped so that it cannot throw into the caller: its first exception is reported with
 * `process.emitWarning` (naming `option`) and the callback is not called again. Undefined stays undefined.
 */
export function guardCallback<A extends unknown[]>(
  cb: ((...args: A) => void) | undefined,
  option: string,
): ((...args: A) => void) | undefined {
  if (cb === undefined) return undefined;
  let dropped = false;
  return (...args: A) => {
    if (dropped) return;
    try {
      cb(...args);
    } catch (err) {
      dropped = true;
      const why = err instanceof Error ? err.message : String(err);
      process.emitWarning(`thinktree: the \`${option}\` callback threw (${why}); it is not called again for this operation`, {
        code: CALLBACK_WARNING_CODE,
      });
    }
  };
}
