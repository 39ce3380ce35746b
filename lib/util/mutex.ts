/**
 * Runs async jobs one at a time, in call order. A native model can only run one batch at a time, and
 * sequence bookkeeping (fork, release) must not interleave with a batch that reads the same pages.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** `mapError` turns a job's failure into the error its caller sees (e.g. native errors into exported ones). */
  constructor(private readonly mapError?: (err: unknown) => unknown) {}

  run<T>(job: () => T | Promise<T>): Promise<T> {
    const map = this.mapError;
    const ran = this.tail.then(job);
    const result = map === undefined ? ran : ran.catch((err: unknown) => Promise.reject(map(err)));
    // A failed job must not poison the jobs queued after it.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
