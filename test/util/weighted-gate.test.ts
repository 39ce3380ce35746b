import { describe, expect, it } from 'vitest';
import { WeightedGate } from '../../lib/util/weighted-gate.js';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('WeightedGate', () => {
  it('admits jobs while their weights fit and holds the rest until room is given back', async () => {
    const gate = new WeightedGate(10);
    const order: string[] = [];
    const a = await gate.enter(6);
    const b = await gate.enter(4);
    const c = gate.enter(3).then((w) => (order.push('c'), w));
    await tick();
    expect(order).toEqual([]);
    gate.leave(b);
    const wc = await c;
    expect(order).toEqual(['c']);
    gate.leave(a);
    gate.leave(wc);
  });

  it('serves waiters in arrival order, so a big job is not overtaken by small ones', async () => {
    const gate = new WeightedGate(8);
    const first = await gate.enter(5);
    const order: string[] = [];
    const big = gate.enter(8).then((w) => (order.push('big'), w));
    const small = gate.enter(1).then((w) => (order.push('small'), w));
    await tick();
    expect(order).toEqual([]); // small fits beside `first`, but waits behind big
    gate.leave(first);
    const wb = await big;
    expect(order).toEqual(['big']);
    gate.leave(wb);
    gate.leave(await small);
    expect(order).toEqual(['big', 'small']);
  });

  it('counts a weight above the capacity as the whole capacity, so it still runs', async () => {
    const gate = new WeightedGate(4);
    expect(await gate.enter(64)).toBe(4);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new WeightedGate(0)).toThrow(/positive integer capacity, got 0/);
  });
});
