import { describe, expect, it } from 'vitest';
import { KvBudgetError } from '../../lib/errors.js';
import { StepBatcher } from '../../lib/backends/step-batcher.js';

describe('StepBatcher', () => {
  it('merges requests submitted together into one batch and splits the results back', async () => {
    const calls: number[][] = [];
    const b = new StepBatcher<number, number>(async (items) => {
      calls.push([...items]);
      return items.map((x) => x * 10);
    });
    const [a, c] = await Promise.all([b.submit([1, 2], 'k'), b.submit([3], 'k')]);
    expect(calls).toEqual([[1, 2, 3]]);
    expect(a).toEqual([10, 20]);
    expect(c).toEqual([30]);
  });

  it('never merges requests with different keys', async () => {
    const calls: string[] = [];
    const b = new StepBatcher<number, number>(async (items, key) => {
      calls.push(`${key}:${items.join(',')}`);
      return [...items];
    });
    await Promise.all([b.submit([1], 'a'), b.submit([2], 'b'), b.submit([3], 'a')]);
    expect(calls.sort()).toEqual(['a:1,3', 'b:2']);
  });

  it('retries a merged batch job by job when the KV pool is short, failing only the job that cannot fit', async () => {
    // A pool of 2 "pages": each item takes one page for the duration of the call.
    const b = new StepBatcher<number, number>(async (items) => {
      if (items.length > 2) throw new KvBudgetError(`KV budget exhausted: need ${items.length} pages, 2 free`);
      return [...items];
    });
    const results = await Promise.allSettled([b.submit([1, 2], 'k'), b.submit([3, 4, 5], 'k'), b.submit([6], 'k')]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: [1, 2] });
    expect(results[1].status).toBe('rejected');
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(KvBudgetError);
    expect(results[2]).toEqual({ status: 'fulfilled', value: [6] });
  });

  it('retries a job that did not fit after other jobs of its batch have freed pages', async () => {
    let free = 1;
    const b = new StepBatcher<string, string>(async (items) => {
      if (items.includes('big')) {
        if (free < 2) throw new KvBudgetError('KV budget exhausted: need 2 pages, 1 free');
        return ['big done'];
      }
      free += 1; // a small search finishes and releases its pages
      return items.map((x) => `${x} done`);
    });
    const big = b.submit(['big'], 'k');
    const small = b.submit(['small'], 'k');
    await expect(big).resolves.toEqual(['big done']);
    await expect(small).resolves.toEqual(['small done']);
  });

  it('fails a job that does not fit when nothing else is queued (waiting could not help)', async () => {
    const b = new StepBatcher<number, number>(async () => {
      throw new KvBudgetError('KV budget exhausted: need 9 pages, 2 free');
    });
    await expect(b.submit([1], 'k')).rejects.toBeInstanceOf(KvBudgetError);
  });

  it('passes other errors through to every job of the batch', async () => {
    const b = new StepBatcher<number, number>(async () => {
      throw new Error('boom');
    });
    const results = await Promise.allSettled([b.submit([1], 'k'), b.submit([2], 'k')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
