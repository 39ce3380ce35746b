import { abortError } from '../errors.js';

/**
 * Runs jobs 0..count-1 with at most `limit` in flight; results come back in job order. After the first
 * failure no new job starts and the signal given to the running jobs aborts; once they have settled
 * (so that nothing is still holding engine resources) the first failure is rethrown.
 */
export async function runPool<T>(
  count: number,
  limit: number,
  job: (index: number, signal: AbortSignal) => Promise<T>,
  signal?: AbortSignal,
): Promise<T[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`Expected a positive concurrency, got ${limit}`);
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const results = new Array<T>(count);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (failure === null && !controller.signal.aborted && next < count) {
      const i = next++;
      try {
        results[i] = await job(i, controller.signal);
      } catch (error) {
        if (failure === null) failure = { error };
        controller.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure !== null) throw (failure as { error: unknown }).error;
  if (signal?.aborted) throw abortError(signal);
  return results;
}
