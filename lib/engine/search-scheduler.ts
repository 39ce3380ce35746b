/**
 * Admits an engine's searches by KV capacity, the way vLLM's scheduler admits requests: searches start
 * in arrival order while the pool has room; a search whose step does not get pages waits until another
 * search releases some; when every running search waits (none can go on, none will release), the
 * newest one is preempted: it is cancelled, its pages return to the pool, and it runs again from the
 * start once admitted again (recompute: same seed, same result). A search fails with KvBudgetError
 * only when it does not fit while it is the only one running: it could never fit in this pool.
 *
 * How many run at once adapts, as TCP's congestion window does, because a search's KV need is not
 * known before it runs: one at first, doubled at each completion (slow start) until a call first runs
 * short of pages; from then on one below the searches running when a call runs short or a search is
 * preempted, and raised by one after `limit × backoff` completions in a row without a shortage, where
 * `backoff` doubles at each later cut (up to 8) and halves at each raise (so probing a limit the pools
 * cannot hold gets rarer, and a limit that holds is raised sooner again). A shortage wastes the native
 * work of the step that failed and a preemption the work of the whole search so far, so the engine
 * settles near the number of searches the pools hold instead of admitting them all and preempting most.
 */
import { DisposedError, KvBudgetError, QueueFullError, abortError } from '../errors.js';

/** The reason a preempted search's signal is aborted with; the engine runs the search again. */
export class SearchPreemptedError extends Error {
  override name = 'SearchPreemptedError';
  constructor() {
    super('the search was preempted to free KV pages for earlier searches; it runs again');
  }
}

/** One attempt of one search, from admission to finish. */
export class SearchTicket {
  /** Backend calls of this search now running (not waiting for pages). */
  calls = 0;
  /** Its calls now waiting for pages. */
  readonly waits: PageWait[] = [];
  /** Set when the scheduler took this attempt's pages back. */
  preempted = false;

  constructor(
    /** Place in arrival order (kept across attempts). */
    readonly arrival: number,
    /** Aborted with SearchPreemptedError when the search is preempted. */
    readonly controller: AbortController,
  ) {}

  /** Nothing of it runs and something of it waits: it can only go on once pages are freed. */
  get stalled(): boolean {
    return this.calls === 0 && this.waits.length > 0;
  }
}

interface PageWait {
  error: KvBudgetError;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Waiter {
  arrival: number;
  controller: AbortController;
  admit: (ticket: SearchTicket) => void;
  fail: (err: unknown) => void;
}

/** Counters for tests, benchmarks and the server's metrics. */
export interface SearchSchedulerStats {
  running: number;
  waiting: number;
  /** Searches preempted (and run again) since the engine was made. */
  preemptions: number;
  /** Backend calls that ran short of KV pages and waited since the engine was made. */
  shortages: number;
  /** Searches admitted at once now (adaptive, see SearchScheduler). */
  limit: number;
}

export class SearchScheduler {
  private arrivals = 0;
  /** Searches waiting for admission, in arrival order (a preempted one goes back to its place). */
  private readonly waiting: Waiter[] = [];
  private readonly running: SearchTicket[] = [];
  private limit = 1;
  /** Doubling the limit at each completion until a call first runs short of pages. */
  private slowStart = true;
  private completedSinceCut = 0;
  /** Completions per limit step before the limit grows by one (doubled at each cut, halved at each raise). */
  private backoff = 1;
  /** Releases in flight: they will free pages, so nothing is stalled yet. */
  private releasesInFlight = 0;
  /** Counts finished releases; a call that failed before the count moved retries at once. */
  private epoch = 0;
  private preemptions = 0;
  private shortages = 0;
  private disposed = false;

  constructor(
    /** Searches that may wait for admission at once; one more fails with QueueFullError. */
    readonly maxQueued: number,
  ) {}

  stats(): SearchSchedulerStats {
    return { running: this.running.length, waiting: this.waiting.length, preemptions: this.preemptions, shortages: this.shortages, limit: this.limit };
  }

  /** A new search's place in arrival order. */
  arrive(): number {
    return this.arrivals++;
  }

  /** Finished releases so far (read before a call; pass to waitForPages if it does not fit). */
  get releases(): number {
    return this.epoch;
  }

  /**
   * Resolves when the search may start. `again` marks a preempted search coming back: it takes its
   * arrival place and is never refused for a full queue.
   */
  admit(arrival: number, controller: AbortController, signal: AbortSignal | undefined, again: boolean): Promise<SearchTicket> {
    if (this.disposed) return Promise.reject(new DisposedError('Engine'));
    if (signal?.aborted) return Promise.reject(abortError(signal, 'the search'));
    if (this.waiting.length === 0 && this.roomForOneMore()) return Promise.resolve(this.start(arrival, controller));
    if (!again && this.waiting.length >= this.maxQueued) {
      return Promise.reject(new QueueFullError('searches', this.maxQueued, 'raise the `maxQueuedSearches` engine option or start fewer searches at once'));
    }
    return new Promise<SearchTicket>((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(waiter);
        if (at < 0) return;
        this.waiting.splice(at, 1);
        reject(abortError(signal!, 'the search'));
      };
      const waiter: Waiter = {
        arrival,
        controller,
        admit: (ticket) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(ticket);
        },
        fail: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      let at = this.waiting.length;
      while (at > 0 && this.waiting[at - 1]!.arrival > arrival) at--;
      this.waiting.splice(at, 0, waiter);
    });
  }

  /** The search of `ticket` has ended (done, failed or preempted) and released its nodes. */
  finish(ticket: SearchTicket): void {
    const at = this.running.indexOf(ticket);
    if (at < 0) return;
    this.running.splice(at, 1);
    if (!ticket.preempted) this.grow();
    this.admitWaiting();
    this.checkStall();
  }

  callStarted(ticket: SearchTicket): void {
    ticket.calls++;
  }

  callEnded(ticket: SearchTicket): void {
    ticket.calls--;
    this.checkStall();
  }

  /** Runs a release; when it ends, every waiting call retries and waiting searches may start. */
  async releasing<T>(release: () => Promise<T>): Promise<T> {
    this.releasesInFlight++;
    try {
      return await release();
    } finally {
      this.releasesInFlight--;
      this.epoch++;
      for (const t of this.running) for (const w of t.waits.splice(0)) w.resolve();
      this.admitWaiting();
      this.checkStall();
    }
  }

  /**
   * A call of `ticket` did not get pages (`error`). Resolves when it should retry: at once when a
   * release ended since `seenEpoch`, else after the next release. Rejects with SearchPreemptedError when
   * the scheduler preempts this search, with KvBudgetError when it is the only search running (it
   * could never fit), with the signal's abort error, or with DisposedError.
   */
  waitForPages(ticket: SearchTicket, seenEpoch: number, error: KvBudgetError, signal: AbortSignal | undefined): Promise<void> {
    if (this.disposed) return Promise.reject(new DisposedError('Engine'));
    if (ticket.preempted) return Promise.reject(new SearchPreemptedError());
    if (signal?.aborted) return Promise.reject(abortError(signal, 'the search'));
    if (this.epoch !== seenEpoch) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const at = ticket.waits.indexOf(wait);
        if (at < 0) return;
        ticket.waits.splice(at, 1);
        reject(abortError(signal!, 'the search'));
        this.checkStall();
      };
      const wait: PageWait = {
        error,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      ticket.waits.push(wait);
      this.shortages++;
      // The pools are too full for this many searches: fewer from now on (once per level).
      if (this.limit >= this.running.length) this.cut(this.running.length - 1);
      else this.completedSinceCut = 0;
      this.checkStall();
    });
  }

  /** Fails every waiting search and every call waiting for pages with DisposedError. */
  dispose(): void {
    this.disposed = true;
    for (const w of this.waiting.splice(0)) w.fail(new DisposedError('Engine'));
    for (const t of this.running) for (const w of t.waits.splice(0)) w.reject(new DisposedError('Engine'));
  }

  /** A search completed without running out of pages for good: let one more in (see the class note). */
  private grow(): void {
    // Only a limit that holds searches back is raised (a limit far above the load says nothing).
    if (this.waiting.length === 0) return;
    if (this.slowStart) {
      this.limit *= 2;
      return;
    }
    if (++this.completedSinceCut >= this.limit * this.backoff) {
      this.limit++;
      // A limit that held is evidence too: probe sooner again (a long-lived engine whose searches
      // got smaller must not stay at a low limit for hundreds of completions).
      this.backoff = Math.max(1, this.backoff / 2);
      this.completedSinceCut = 0;
    }
  }

  /** Lowers the limit to `to` (at least one) and makes the next probe above it rarer. */
  private cut(to: number): void {
    if (!this.slowStart) this.backoff = Math.min(this.backoff * 2, 8);
    this.slowStart = false;
    this.limit = Math.max(1, Math.min(this.limit, to));
    this.completedSinceCut = 0;
  }

  private start(arrival: number, controller: AbortController): SearchTicket {
    const ticket = new SearchTicket(arrival, controller);
    this.running.push(ticket);
    return ticket;
  }

  /** A new search may start: under the limit, and no running one is short of pages. */
  private roomForOneMore(): boolean {
    return !this.disposed && this.running.length < this.limit && this.running.every((t) => t.waits.length === 0);
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.roomForOneMore()) {
      const next = this.waiting.shift()!;
      next.admit(this.start(next.arrival, next.controller));
    }
  }

  /** When no running search can go on and no release is coming, frees pages by preempting one. */
  private checkStall(): void {
    if (this.releasesInFlight > 0 || this.running.length === 0) return;
    // A preempted search still giving its pages back: see what they unblock before preempting more.
    if (this.running.some((t) => t.preempted)) return;
    if (!this.running.every((t) => t.stalled)) return;
    const live = this.running;
    if (live.length === 1) {
      // Alone in the pool and still short: waiting cannot help.
      const only = live[0]!;
      for (const w of only.waits.splice(0)) {
        w.reject(
          new KvBudgetError(
            `${w.error.message}, with no other search running: this search needs more KV pages than the whole pool ` +
              'holds; raise that model\'s `kvCacheBytes` or make the search smaller (n, beamWidth, maxStepTokens)',
            { cause: w.error },
          ),
        );
      }
      return;
    }
    // Preempt the newest (vLLM preempts the lowest-priority request, the last to arrive).
    const victim = live.reduce((a, b) => (b.arrival > a.arrival ? b : a));
    victim.preempted = true;
    this.preemptions++;
    this.cut(live.length - 1);
    const preempted = new SearchPreemptedError();
    victim.controller.abort(preempted);
    for (const w of victim.waits.splice(0)) w.reject(preempted);
  }
}
