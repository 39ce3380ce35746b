// The search scheduler's rules on their own (no model): arrival order, the bounded queue, abort and
// dispose while waiting, waiting for a release, preempting the newest on a stall, and KvBudgetError
// only for a search that is short while running alone.
import { describe, expect, it } from 'vitest';
import { SearchPreemptedError, SearchScheduler, type SearchTicket } from '../../lib/engine/search-scheduler.js';
import { AbortError, DisposedError, KvBudgetError, QueueFullError } from '../../lib/errors.js';

const short = () => new KvBudgetError('KV budget exhausted: need 5 pages, 2 free');

/** Admits a new search; `order` records arrival numbers in the order they were admitted. */
function enter(s: SearchScheduler, order: number[], signal?: AbortSignal): { arrival: number; ticket: Promise<SearchTicket> } {
  const arrival = s.arrive();
  const ticket = s.admit(arrival, new AbortController(), signal, false).then((t) => {
    order.push(arrival);
    return t;
  });
  return { arrival, ticket };
}

/** Lets settled promises run their callbacks. */
const flush = () => new Promise((r) => setImmediate(r));

/** Two searches running at once: the first finishes, which doubles the limit (slow start) to two. */
async function twoRunning(s: SearchScheduler): Promise<[SearchTicket, SearchTicket]> {
  const order: number[] = [];
  const first = enter(s, order);
  const a = enter(s, order);
  const b = enter(s, order);
  s.finish(await first.ticket);
  return [await a.ticket, await b.ticket];
}

describe('SearchScheduler', () => {
  it('starts one search first and the waiting ones in arrival order as searches complete', async () => {
    const s = new SearchScheduler(16);
    const order: number[] = [];
    const runs = Array.from({ length: 4 }, () => enter(s, order));
    await flush();
    expect(order).toEqual([0]);
    expect(s.stats()).toMatchObject({ running: 1, waiting: 3, limit: 1 });
    s.finish(await runs[0]!.ticket);
    await flush();
    expect(order).toEqual([0, 1, 2]);
    s.finish(await runs[1]!.ticket);
    await flush();
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('doubles the limit at each completion until a call runs short, then admits none while one waits and cuts it', async () => {
    const s = new SearchScheduler(64);
    const order: number[] = [];
    const runs = Array.from({ length: 12 }, () => enter(s, order));
    s.finish(await runs[0]!.ticket); // limit 2: 1 and 2 start
    s.finish(await runs[1]!.ticket); // limit 4: 3, 4 and 5 join 2
    await flush();
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.stats()).toMatchObject({ running: 4, limit: 4 });
    const [t2, t3, t4, t5] = await Promise.all([2, 3, 4, 5].map((i) => runs[i]!.ticket));
    for (const t of [t3!, t4!, t5!]) s.callStarted(t);
    // Four running, one short: the limit drops below the running count.
    const wait = s.waitForPages(t2!, s.releases, short(), undefined);
    expect(s.stats()).toMatchObject({ limit: 3, shortages: 1 });
    await s.releasing(async () => undefined);
    await wait;
    s.finish(t3!);
    await flush();
    expect(order).toEqual([0, 1, 2, 3, 4, 5]); // three running, limit three
    s.finish(t4!);
    await flush();
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]); // back under the limit: the next in line
  });

  it('refuses a search beyond the queue bound with QueueFullError naming the option', async () => {
    const s = new SearchScheduler(2);
    const order: number[] = [];
    enter(s, order);
    enter(s, order);
    enter(s, order);
    const refused = enter(s, order).ticket;
    await expect(refused).rejects.toBeInstanceOf(QueueFullError);
    await expect(refused).rejects.toThrow(/2 searches are already waiting.*maxQueuedSearches/);
  });

  it('drops a waiting search whose signal aborts, and the next one takes its place', async () => {
    const s = new SearchScheduler(16);
    const order: number[] = [];
    const first = enter(s, order);
    const controller = new AbortController();
    const aborted = enter(s, order, controller.signal);
    const next = enter(s, order);
    controller.abort();
    await expect(aborted.ticket).rejects.toBeInstanceOf(AbortError);
    expect(s.stats().waiting).toBe(1);
    s.finish(await first.ticket);
    await next.ticket;
    expect(order).toEqual([0, 2]);
  });

  it('fails waiting searches with DisposedError on dispose', async () => {
    const s = new SearchScheduler(16);
    const order: number[] = [];
    enter(s, order);
    const waiting = enter(s, order).ticket;
    s.dispose();
    await expect(waiting).rejects.toBeInstanceOf(DisposedError);
    await expect(enter(s, order).ticket).rejects.toBeInstanceOf(DisposedError);
  });

  it('lets a short call retry at once when a release ended after it started', async () => {
    const s = new SearchScheduler(16);
    const [a] = await twoRunning(s);
    const seen = s.releases;
    await s.releasing(async () => undefined);
    await expect(s.waitForPages(a, seen, short(), undefined)).resolves.toBeUndefined();
  });

  it('wakes a short call at the next release', async () => {
    const s = new SearchScheduler(16);
    const [a, b] = await twoRunning(s);
    s.callStarted(b); // b is still working: nothing is stalled
    let woke = false;
    const wait = s.waitForPages(a, s.releases, short(), undefined).then(() => (woke = true));
    await flush();
    expect(woke).toBe(false);
    await s.releasing(async () => undefined);
    await wait;
    expect(woke).toBe(true);
    expect(b.preempted).toBe(false);
  });

  it('preempts the newest search when every running one is short, and the older one goes on after its release', async () => {
    const s = new SearchScheduler(16);
    const [a, b] = await twoRunning(s);
    const waitA = s.waitForPages(a, s.releases, short(), undefined);
    const waitB = s.waitForPages(b, s.releases, short(), undefined);
    await expect(waitB).rejects.toBeInstanceOf(SearchPreemptedError);
    expect(b.preempted).toBe(true);
    expect(b.controller.signal.aborted).toBe(true);
    expect(a.preempted).toBe(false);
    expect(s.stats()).toMatchObject({ preemptions: 1, limit: 1 });
    // The preempted search releases its nodes; the older one's call retries.
    await s.releasing(async () => undefined);
    await expect(waitA).resolves.toBeUndefined();
    s.finish(b);
    // Back in line at its arrival place, ahead of later arrivals, and never refused for a full queue.
    const admitted: number[] = [];
    const later = enter(s, admitted);
    const again = s.admit(b.arrival, new AbortController(), undefined, true).then((t) => (admitted.push(t.arrival), t));
    s.finish(a);
    s.finish(await again);
    await later.ticket;
    expect(admitted).toEqual([b.arrival, later.arrival]);
  });

  it('fails a short call with KvBudgetError when its search runs alone: it could never fit', async () => {
    const s = new SearchScheduler(16);
    const only = await enter(s, []).ticket;
    const wait = s.waitForPages(only, s.releases, short(), undefined);
    await expect(wait).rejects.toBeInstanceOf(KvBudgetError);
    await expect(wait).rejects.toThrow(/need 5 pages, 2 free, with no other search running/);
  });

  it('rejects a short call whose signal aborts while it waits', async () => {
    const s = new SearchScheduler(16);
    const [a, b] = await twoRunning(s);
    s.callStarted(b);
    const controller = new AbortController();
    const wait = s.waitForPages(a, s.releases, short(), controller.signal);
    controller.abort();
    await expect(wait).rejects.toBeInstanceOf(AbortError);
  });
});
