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

/** An option object failed validation before any work started. */
export class OptionError extends TypeError {
  override name = 'OptionError';
}

/** Rethrows native errors as the typed errors above where the native side marked them. */
export function translateNativeError(err: unknown): never {
  if (err instanceof Error && (err as Error & { code?: string }).code === 'KV_BUDGET') {
    throw new KvBudgetError(err.message);
  }
  throw err;
}

/** The error an aborted operation rejects with (DOMException-compatible name). */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error(typeof reason === 'string' ? reason : 'The operation was aborted');
  e.name = 'AbortError';
  return e;
}
