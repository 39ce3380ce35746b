/**
 * Native calls the models' public API does not offer yet, made through the model's own serial queue
 * (the path Model.logits and Prm.scoreIds take), so they never interleave with a batch:
 *
 * - prefill: runs a policy sequence's pending tokens, so that its forks share the prompt's KV pages
 *   instead of each computing the prompt again (fork copies pending tokens, it does not share them);
 * - scoreAt: PRM rows at given positions by forwarding each span up to a position with 'last', so the
 *   prefix cache serves what an earlier request already computed (a forward 'all' skips nothing).
 *
 * They belong in Model (`prefill(seq)`) and Prm (`scoreIds` on the cached path); until then they live
 * here, in one place.
 */
import { translateNativeError } from '../errors.js';
import type { Model } from '../models/model.js';
import { rewardOf } from '../models/prm/format.js';
import type { Prm } from '../models/prm/prm.js';
import type { NativeModel, SeqId } from '../native/addon-types.js';

interface HandleInternals {
  queue: { run<T>(job: () => T | Promise<T>): Promise<T> };
  live(): NativeModel;
}

/** Runs `job` on the handle's native model, in its queue. */
function withNative<T>(handle: Model | Prm, job: (native: NativeModel) => Promise<T>): Promise<T> {
  const inner = handle as unknown as HandleInternals;
  if (typeof inner.live !== 'function' || typeof inner.queue?.run !== 'function') {
    return Promise.reject(new Error('The model no longer has the queue/live() internals lib/server/native-access.ts reaches'));
  }
  return inner.queue.run(async () => {
    try {
      return await job(inner.live());
    } catch (err) {
      return translateNativeError(err);
    }
  });
}

/**
 * Runs every pending token of `seq` through the model (its KV pages are then filled); resolves to the
 * tokens the prefix cache let it skip (exact: nothing else runs in between).
 */
export function prefill(model: Model, seq: SeqId): Promise<number> {
  return withNative(model, async (native) => {
    const before = native.kvStats().prefixHitTokens;
    await native.forward(Int32Array.of(seq), 'last');
    return native.kvStats().prefixHitTokens - before;
  });
}

/**
 * The PRM reward at each of `positions[i]` (ascending) of `inputs[i]`. Round r appends every input's
 * tokens up to its r-th position and forwards all of them together with 'last'; tokens after the last
 * position are never run. Every sequence is released before the promise settles. `cachedTokens`: the
 * tokens the prefix cache let these forwards skip.
 */
export function scoreAt(
  prm: Prm,
  inputs: readonly (readonly number[])[],
  positions: readonly (readonly number[])[],
  signal?: AbortSignal,
): Promise<{ rewards: number[][]; cachedTokens: number }> {
  const width = prm.info.outputWidth;
  return withNative(prm, async (native) => {
    const seqs: SeqId[] = [];
    const hitsBefore = native.kvStats().prefixHitTokens;
    try {
      for (let i = 0; i < inputs.length; i++) seqs.push(native.createSequence(0));
      const appended = inputs.map(() => 0);
      const rewards: number[][] = inputs.map(() => []);
      for (let round = 0; ; round++) {
        const active = positions.flatMap((p, i) => (p.length > round ? [i] : []));
        if (active.length === 0) break;
        signal?.throwIfAborted();
        for (const i of active) {
          const end = positions[i]![round]! + 1;
          native.appendTokens(seqs[i]!, Int32Array.from(inputs[i]!.slice(appended[i], end)));
          appended[i] = end;
        }
        const rows = await native.forward(Int32Array.from(active, (i) => seqs[i]!), 'last');
        active.forEach((i, k) => rewards[i]!.push(rewardOf(prm.format.reward, rows, k * width, width)));
      }
      return { rewards, cachedTokens: native.kvStats().prefixHitTokens - hitsBefore };
    } finally {
      if (seqs.length > 0) native.releaseMany(Int32Array.from(seqs));
    }
  });
}
