/**
 * Reserves amounts of a fixed capacity (KV pages) first come first served, with a bounded, abortable
 * wait. A request that does not fit now waits behind every earlier one, so a large request at the head
 * is never overtaken forever by small ones (the starvation a "first that fits" rule has). Unlike
 * WeightedGate (the eval's count of generations in flight) the wait honours an AbortSignal, has a
 * bound, and ends with an error when the owner is disposed.
 */
import { abortError } from '../errors.js';

interface Waiter {
  amount: number;
  admit: () => void;
  fail: (err: unknown) => void;
}

export class ReservationQueue {
  private used = 0;
  private readonly waiting: Waiter[] = [];
  private closedWith: (() => Error) | null = null;

  constructor(
    /** What may be reserved at once. */
    readonly capacity: number,
    /** Requests that may wait at once; one more fails with `fullError()`. */
    readonly maxWaiting: number,
    private readonly fullError: () => Error,
    /** The waiting request as abort errors name it ('generate()'). */
    private readonly what = 'the request',
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`Expected a positive integer capacity, got ${capacity}`);
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) throw new RangeError(`Expected a non-negative integer bound, got ${maxWaiting}`);
  }

  /** Requests waiting now. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Amount reserved now. */
  get reserved(): number {
    return this.used;
  }

  /**
   * Resolves once `amount` (clamped to [1, capacity]) is reserved, with the amount to give back.
   * Rejects with the signal's abort error when aborted while waiting, with the close error after
   * close(), and with the full error when `maxWaiting` requests already wait.
   */
  reserve(amount: number, signal?: AbortSignal): Promise<number> {
    const want = Math.min(Math.max(1, Math.ceil(amount)), this.capacity);
    if (this.closedWith) return Promise.reject(this.closedWith());
    if (signal?.aborted) return Promise.reject(abortError(signal, this.what));
    if (this.waiting.length === 0 && this.used + want <= this.capacity) {
      this.used += want;
      return Promise.resolve(want);
    }
    if (this.waiting.length >= this.maxWaiting) return Promise.reject(this.fullError());
    return new Promise<number>((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(waiter);
        if (at < 0) return;
        this.waiting.splice(at, 1);
        reject(abortError(signal!, this.what));
        // The head may have changed: requests behind an aborted big one may fit now.
        this.admitWaiting();
      };
      const waiter: Waiter = {
        amount: want,
        admit: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(want);
        },
        fail: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Gives back what `reserve` resolved to, and admits the waiting requests that now fit, in order. */
  give(amount: number): void {
    this.used -= amount;
    if (this.used < 0) throw new Error(`ReservationQueue: gave back more than was reserved (${-this.used} too many)`);
    this.admitWaiting();
  }

  /** Fails every waiting request and every later one with `error()` (the owner is disposed). */
  close(error: () => Error): void {
    this.closedWith = error;
    for (const w of this.waiting.splice(0)) w.fail(error());
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.amount <= this.capacity) {
      const next = this.waiting.shift()!;
      this.used += next.amount;
      next.admit();
    }
  }
}
