/**
 * Runs async jobs one at a time, in call order. A native model can only run one batch at a time, and
 * sequence bookkeeping (fork, release) must not interleave with a batch that reads the same pages.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    // A failed job must not poison the jobs queued after it.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
