/**
 * Ties an AbortSignal to a native call: the call gets a cancel id, and the signal firing raises that
 * call's native flag (addon.cancelCall), which its work polls between tokens, chunks and reads. The
 * listener is removed once the call settles, so a long-lived signal does not collect listeners.
 */
import { nativeAddon } from './load.js';

/** Ids name calls in flight only; 2^31 - 1 calls later they start again from 1. */
let nextCancelId = 1;

function takeCancelId(): number {
  const id = nextCancelId;
  nextCancelId = nextCancelId >= 0x7fffffff ? 1 : nextCancelId + 1;
  return id;
}

/**
 * Runs `call` with a cancel id tied to `signal` (none when there is no signal). The native call then
 * rejects with code 'ABORTED' if the signal fires while it runs.
 */
export async function withCancel<T>(signal: AbortSignal | undefined, call: (cancelId: number | undefined) => Promise<T>): Promise<T> {
  if (signal === undefined) return call(undefined);
  const id = takeCancelId();
  const onAbort = (): void => void nativeAddon().cancelCall(id);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    // A signal that fired before the call was queued: cancel it as soon as it exists.
    const pending = call(id);
    if (signal.aborted) onAbort();
    return await pending;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Whether `err` is a native call's rejection because its cancel flag was raised. */
export function isNativeAbort(err: unknown): boolean {
  return err instanceof Error && (err as Error & { code?: string }).code === 'ABORTED';
}
