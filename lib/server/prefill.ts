/**
 * Prefill of a policy sequence before it is forked, so that the children share the prompt's KV pages
 * instead of each computing the prompt again (pending tokens are copied by fork, not shared).
 *
 * Model has no public prefill yet; this reaches its native handle through its own serial queue (the
 * same path Model.logits takes), so it never interleaves with a batch. It belongs in Model as
 * `prefill(seq)`; until then it lives here, in one place.
 */
import { translateNativeError } from '../errors.js';
import type { Model } from '../models/model.js';
import type { NativeModel, SeqId } from '../native/addon-types.js';

interface ModelInternals {
  queue: { run<T>(job: () => T | Promise<T>): Promise<T> };
  live(): NativeModel;
}

/** Runs every pending token of `seq` through the model (its KV pages are then filled). */
export function prefill(model: Model, seq: SeqId): Promise<void> {
  const inner = model as unknown as ModelInternals;
  if (typeof inner.live !== 'function' || typeof inner.queue?.run !== 'function') {
    return Promise.reject(new Error('Model no longer has the queue/live() internals lib/server/prefill.ts reaches; give Model a prefill()'));
  }
  return inner.queue.run(async () => {
    try {
      await inner.live().forward(Int32Array.of(seq), 'last');
    } catch (err) {
      translateNativeError(err);
    }
  });
}
