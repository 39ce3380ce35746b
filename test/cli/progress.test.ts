import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../lib/eval/duration.js';
import { ProgressBar } from '../../lib/cli/progress.js';

function bar(isTTY: boolean) {
  const writes: string[] = [];
  let t = 0;
  const b = new ProgressBar({ write: (s) => void writes.push(s), isTTY, label: 'eval', width: 10, now: () => t });
  return { b, writes, advance: (ms: number) => (t += ms) };
}

describe('ProgressBar', () => {
  it('draws the filled fraction, percent, detail and an estimate of the time left', () => {
    const { b, advance } = bar(false);
    advance(30_000);
    expect(b.line(0.25, '3/12')).toBe('eval [###.......]  25% 3/12 (30s, ~1m30s left)');
  });

  it('prints a plain line at the first update and at each tenth when not on a terminal', () => {
    const { b, writes } = bar(false);
    for (let i = 1; i <= 40; i++) b.update(i / 40, `${i}/40`);
    expect(writes).toHaveLength(11);
    expect(writes.map((w) => /(\d+)%/.exec(w)![1])).toEqual(['3', '10', '20', '30', '40', '50', '60', '70', '80', '90', '100']);
    expect(writes.every((w) => w.endsWith('\n') && !w.includes('\r'))).toBe(true);
    expect(writes.at(-1)).toMatch(/100% 40\/40/);
  });

  it('redraws one line with \\r on a terminal, at most once per 100 ms until done', () => {
    const { b, writes, advance } = bar(true);
    b.update(0.1, 'a');
    b.update(0.2, 'b');
    advance(150);
    b.update(0.3, 'c');
    b.update(1, 'd');
    expect(writes.map((w) => w.slice(0, 1))).toEqual(['\r', '\r', '\r']);
    expect(writes.map((w) => /% (\w)/.exec(w)![1])).toEqual(['a', 'c', 'd']);
  });

  it('pads a shorter redraw to cover the previous line', () => {
    const { b, writes, advance } = bar(true);
    b.update(0.1, 'a long detail');
    advance(200);
    b.update(0.2, 'x');
    expect(writes[1]!.length).toBeGreaterThanOrEqual(writes[0]!.length);
  });

  it('ends the terminal line once on finish', () => {
    const { b, writes } = bar(true);
    b.update(1, 'x');
    b.finish();
    b.finish();
    expect(writes.at(-1)).toBe('\n');
    expect(writes.filter((w) => w === '\n')).toHaveLength(1);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [59_400, '59s'],
    [61_000, '1m01s'],
    [3_725_000, '1h02m'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
