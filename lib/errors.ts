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
