import { describe, expect, it } from 'vitest';
import { splitThought } from '../../lib/tpo/split.js';

const M = 'Here is my response:';

describe('splitThought', () => {
  it('splits at a marker that appears once: thought before, response after, both trimmed', () => {
    expect(splitThought(`Here is my thought process: 2 + 2 is 4.\n${M}  4 \n`, M)).toEqual({
      ok: true,
      thought: 'Here is my thought process: 2 + 2 is 4.',
      response: '4',
    });
  });

  it('keeps an empty thought when the output starts with the marker', () => {
    expect(splitThought(`${M} 4`, M)).toEqual({ ok: true, thought: '', response: '4' });
  });

  it('splits the shipped policy format at "The answer is"', () => {
    const out = '31 + 67 = 98\n\n98 - 18 = 80\n\nThe answer is \\boxed{80}.';
    expect(splitThought(out, 'The answer is')).toEqual({ ok: true, thought: '31 + 67 = 98\n\n98 - 18 = 80', response: '\\boxed{80}.' });
  });

  it('reports a missing marker', () => {
    expect(splitThought('I think it is 4. 4.', M)).toEqual({ ok: false, reason: 'missing-marker' });
  });

  it('reports a repeated marker instead of guessing which part is the response', () => {
    expect(splitThought(`a ${M} b ${M} c`, M)).toEqual({ ok: false, reason: 'repeated-marker' });
    // Overlapping occurrences count too ("aa" twice in "aaa" would be one non-overlapping match).
    expect(splitThought('x <R> y <R>', '<R>')).toEqual({ ok: false, reason: 'repeated-marker' });
  });

  it('reports an empty response', () => {
    expect(splitThought(`thinking ${M} \n\n`, M)).toEqual({ ok: false, reason: 'empty-response' });
  });

  it('drops an output cut at the token limit whatever it holds', () => {
    expect(splitThought(`thinking ${M} 4`, M, true)).toEqual({ ok: false, reason: 'truncated' });
  });

  it('refuses an empty marker', () => {
    expect(() => splitThought('x', '')).toThrow(/non-empty marker/);
  });
});
