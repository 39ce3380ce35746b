import { describe, expect, it } from 'vitest';
import { choosePair } from '../../lib/tpo/pairs.js';

describe('choosePair', () => {
  it('takes the highest against the lowest', () => {
    expect(choosePair([0.3, 0.9, 0.1, 0.5])).toEqual({ ok: true, chosen: 1, rejected: 2 });
  });

  it('breaks ties toward the earliest sample on both sides', () => {
    expect(choosePair([0, 1, 1, 0, 1])).toEqual({ ok: true, chosen: 1, rejected: 0 });
  });

  it('drops a group whose scores are all equal', () => {
    expect(choosePair([1, 1, 1])).toEqual({ ok: false, reason: 'all-equal' });
  });

  it('drops a group of fewer than two valid samples', () => {
    expect(choosePair([0.7])).toEqual({ ok: false, reason: 'too-few' });
    expect(choosePair([])).toEqual({ ok: false, reason: 'too-few' });
  });
});
