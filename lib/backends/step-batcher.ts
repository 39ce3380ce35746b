import { KvBudgetError } from '../errors.js';

/** Retries of one job that did not fit before it fails with KvBudgetError. */
const MAX_DEFERRALS = 16;

interface Job<Item, Out> {
  items: readonly Item[];
  key: string;
  resolve: (out: Out[]) => void;
  reject: (err: unknown) => void;
  /** Times this job was put back because the KV pool was short. */
  deferrals: number;
}

/**
 * Merges the step requests of concurrent searches into shared native batches. Requests that arrive
 * while a batch runs wait and go out together in the next one (continuous batching at step
 * granularity); only requests with the same key (same sampling options) are merged.
 *
 * When the KV pool is short, a merged batch is retried job by job; a job that still does not fit goes
 * back in the queue while other jobs make progress (their searches may finish and release pages), and
 * fails with KvBudgetError once nothing else is queued or got through, or after MAX_DEFERRALS tries.
 * A failed job never affects the others.
 */
export class StepBatcher<Item, Out> {
  private queue: Job<Item, Out>[] = [];
  private running = false;

  constructor(private readonly runBatch: (items: readonly Item[], key: string) => Promise<Out[]>) {}

  /** Number of jobs waiting for a batch. */
  get pending(): number {
    return this.queue.length;
  }

  submit(items: readonly Item[], key: string): Promise<Out[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<Out[]>((resolve, reject) => {
      this.queue.push({ items, key, resolve, reject, deferrals: 0 });
      this.pump();
    });
  }

  private pump(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    // One macrotask of delay lets requests issued in the same tick (many searches starting together)
    // join the first batch.
    setImmediate(() => {
      this.drainOnce().finally(() => {
        this.running = false;
        this.pump();
      });
    });
  }

  private async drainOnce(): Promise<void> {
    const key = this.queue[0].key;
    const batch = this.queue.filter((j) => j.key === key);
    this.queue = this.queue.filter((j) => j.key !== key);
    try {
      this.settle(batch, await this.runBatch(batch.flatMap((j) => j.items), key));
      return;
    } catch (err) {
      if (!(err instanceof KvBudgetError) || batch.length === 1) {
        if (err instanceof KvBudgetError) this.deferOrFail(batch[0], err, false);
        else for (const j of batch) j.reject(err);
        return;
      }
    }
    // The merged batch did not fit: run its jobs one at a time. A job that still does not fit is
    // retried later if any other job got through (its search may then release pages).
    let progress = false;
    const short: [Job<Item, Out>, KvBudgetError][] = [];
    for (const job of batch) {
      try {
        this.settle([job], await this.runBatch(job.items, key));
        progress = true;
      } catch (err) {
        if (err instanceof KvBudgetError) short.push([job, err]);
        else job.reject(err);
      }
    }
    for (const [job, err] of short) this.deferOrFail(job, err, progress);
  }

  private settle(jobs: readonly Job<Item, Out>[], out: Out[]): void {
    let at = 0;
    for (const j of jobs) {
      j.resolve(out.slice(at, at + j.items.length));
      at += j.items.length;
    }
  }

  private deferOrFail(job: Job<Item, Out>, err: KvBudgetError, progress: boolean): void {
    // Work that is queued or just completed may free pages; with neither, waiting cannot help.
    if ((progress || this.queue.length > 0) && job.deferrals < MAX_DEFERRALS) {
      job.deferrals++;
      this.queue.push(job);
    } else {
      job.reject(err);
    }
  }
}
