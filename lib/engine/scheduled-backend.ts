/**
 * One search's view of the engine's backend under the SearchScheduler: the search is admitted at its
 * first call (so a search with bad options fails before it queues), a call that does not get KV pages
 * waits for another search's release and retries (the native calls roll back on KvBudget, so a retry
 * gives the same result), and every release is reported so waiting calls wake up.
 */
import type { GeneratedStep, NodeId, RootInfo, ScoreResult, SearchBackend, StepSampling } from '../backends/types.js';
import { KvBudgetError } from '../errors.js';
import type { SearchScheduler, SearchTicket } from './search-scheduler.js';

export class ScheduledBackend implements SearchBackend {
  private ticket: SearchTicket | null = null;

  constructor(
    private readonly inner: SearchBackend,
    private readonly scheduler: SearchScheduler,
    private readonly arrival: number,
    /** Aborted by the scheduler when it preempts this attempt; its signal is part of the search's. */
    private readonly controller: AbortController,
    /** The user's signal: cancels the wait for admission. */
    private readonly userSignal: AbortSignal | undefined,
    /** A preempted search coming back (never refused for a full queue). */
    private readonly again: boolean,
  ) {}

  get info() {
    return this.inner.info;
  }

  /** Whether the scheduler preempted this attempt (the engine then runs the search again). */
  get preempted(): boolean {
    return this.ticket?.preempted ?? false;
  }

  /** Leaves the scheduler; call once the search has settled (it has released its nodes by then). */
  finish(): void {
    if (this.ticket !== null) this.scheduler.finish(this.ticket);
  }

  async createRoot(question: string, options: { seed: number; withPrm: boolean; signal?: AbortSignal }): Promise<RootInfo> {
    this.ticket ??= await this.scheduler.admit(this.arrival, this.controller, this.userSignal, this.again);
    // Only the PRM's prefill of the question takes pages here (the policy's prompt waits as pending tokens).
    return this.retrying(() => this.inner.createRoot(question, options), options.signal, "the PRM's");
  }

  fork(parents: readonly NodeId[]): Promise<NodeId[]> {
    return this.tracked(() => this.inner.fork(parents));
  }

  release(nodes: readonly NodeId[]): Promise<void> {
    return this.scheduler.releasing(() => this.inner.release(nodes));
  }

  generate(nodes: readonly NodeId[], sampling: StepSampling, signal?: AbortSignal): Promise<GeneratedStep[]> {
    return this.retrying(() => this.inner.generate(nodes, sampling, signal), signal, "the policy's");
  }

  appendText(nodes: readonly NodeId[], texts: readonly string[]): Promise<number[]> {
    return this.tracked(() => this.inner.appendText(nodes, texts));
  }

  score(nodes: readonly NodeId[], steps: readonly string[], signal?: AbortSignal): Promise<ScoreResult> {
    return this.retrying(() => this.inner.score(nodes, steps, signal), signal, "the PRM's");
  }

  private admitted(): SearchTicket {
    if (this.ticket === null) throw new Error('ScheduledBackend: a call before createRoot (the search was never admitted)');
    return this.ticket;
  }

  /**
   * Runs `call`, waiting for pages and retrying for as long as it does not fit and may later. `pool`
   * names the KV pool the call takes pages from, for the error when it could never fit.
   */
  private async retrying<T>(call: () => Promise<T>, signal: AbortSignal | undefined, pool: string): Promise<T> {
    const ticket = this.admitted();
    for (;;) {
      const epoch = this.scheduler.releases;
      try {
        return await this.tracked(call);
      } catch (err) {
        if (!(err instanceof KvBudgetError)) throw err;
        await this.scheduler.waitForPages(ticket, epoch, new KvBudgetError(`${err.message} in ${pool} KV pool`, { cause: err }), signal);
      }
    }
  }

  private async tracked<T>(call: () => Promise<T>): Promise<T> {
    const ticket = this.admitted();
    this.scheduler.callStarted(ticket);
    try {
      return await call();
    } finally {
      this.scheduler.callEnded(ticket);
    }
  }
}
