/** Use of a model (or anything holding native memory) after dispose(). */
export class DisposedError extends Error {
  override name = 'DisposedError';
  constructor(what: string) {
    super(`${what} is disposed`);
  }
}

/** The KV page pool cannot hold what a call needs; nothing was changed by the failed call. */
export class KvBudgetError extends Error {
  override name = 'KvBudgetError';
  readonly code = 'KV_BUDGET';
}

/**
 * Too many requests are already waiting for KV pages: the bounded queue of searches (Engine) or of
 * generate() calls (Model) is full. Nothing was started; retry later or raise the bound.
 */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
  readonly code = 'QUEUE_FULL';
  constructor(
    /** What waits in the queue ('searches', 'generate() calls'). */
    readonly what: string,
    /** The bound that was hit. */
    readonly limit: number,
    /** What the caller can do about it (the option that sets the bound, where there is one). */
    hint: string,
  ) {
    super(`${limit} ${what} are already waiting for KV pages, the most that may wait; ${hint}`);
  }
}

/**
 * A process reward model gave a reward that is not a finite number (NaN or non-finite weights, an
 * overflowing head, a remote PRM answering NaN). Such a reward never becomes a score: the call fails
 * naming the PRM and the step.
 */
export class PrmRewardError extends Error {
  override name = 'PrmRewardError';
  constructor(
    /** The PRM: its directory, id or backend. */
    readonly prm: string,
    /** The step whose reward it is, in words ("step 2", "node 7, step 1"). */
    readonly step: string,
    readonly reward: number,
  ) {
    super(`${prm}: the reward of ${step} is ${String(reward)}, not a finite number (non-finite weights or head outputs?)`);
  }
}

/**
 * A weights file of a model loaded with `mmap: true` (the default) changed while the model was loaded:
 * truncated, grown or rewritten in place. The model reads its weights from the file, so it refuses
 * every later forward rather than read a truncated file (which would kill the process) or weights
 * other than those it was loaded with (`info.id` would no longer describe them). Dispose it and load
 * again, or load with `mmap: false` to keep a private copy that later changes to the file cannot reach.
 */
export class WeightsChangedError extends Error {
  override name = 'WeightsChangedError';
  readonly code = 'WEIGHTS_CHANGED';
}

/** An option object failed validation before any work started. */
export class OptionError extends TypeError {
  override name = 'OptionError';
}

/**
 * Rethrows an error of the native addon as the exported class its `code` marks (native/addon sets the
 * code from the runtime's Status): KV_BUDGET → KvBudgetError, DISPOSED → DisposedError (naming
 * `owner`), WEIGHTS_CHANGED → WeightsChangedError, INVALID_ARGUMENT / OUT_OF_RANGE → OptionError.
 * Anything else passes through unchanged.
 */
export function translateNativeError(err: unknown, owner = 'model'): never {
  throw toPublicError(err, owner);
}

/** The exported error for a native one (see translateNativeError), or `err` itself. */
export function toPublicError(err: unknown, owner = 'model'): unknown {
  if (!(err instanceof Error) || err instanceof KvBudgetError || err instanceof DisposedError || err instanceof OptionError || err instanceof WeightsChangedError) return err;
  switch ((err as Error & { code?: string }).code) {
    case 'KV_BUDGET':
      return new KvBudgetError(err.message, { cause: err });
    case 'DISPOSED':
      return new DisposedError(owner);
    case 'WEIGHTS_CHANGED':
      return new WeightsChangedError(err.message, { cause: err });
    case 'INVALID_ARGUMENT':
    case 'OUT_OF_RANGE':
      return new OptionError(err.message, { cause: err });
    default:
      return err;
  }
}

/**
 * An operation (loading, generation, scoring, a search, an HTTP call) was cancelled through its
 * AbortSignal. Every aborted call in thinktree rejects with this one class, as Node's own APIs reject
 * with their AbortError: `cause` carries the signal's reason (a DOMException named 'AbortError' when
 * `controller.abort()` was called without one, or whatever the caller passed).
 */
export class AbortError extends Error {
  override name = 'AbortError';
  readonly code = 'ABORT_ERR';
}

/** The error an aborted operation rejects with: an AbortError whose `cause` is the signal's reason. */
export function abortError(signal: AbortSignal, what = 'the operation'): AbortError {
  const reason: unknown = signal.reason;
  if (reason instanceof AbortError) return reason;
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : undefined;
  const message = why === undefined || /^this operation was aborted$/i.test(why) ? `${what} was aborted` : `${what} was aborted: ${why}`;
  return new AbortError(message, { cause: reason });
}
