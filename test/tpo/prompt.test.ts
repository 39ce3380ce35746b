import { describe, expect, it } from 'vitest';
import { OptionError } from '../../lib/errors.js';
import { ANSWER_LINE_PROMPT, GENERIC_THOUGHT_PROMPT, SPECIFIC_THOUGHT_PROMPT, applyThoughtPrompt, checkThoughtPrompt } from '../../lib/tpo/prompt.js';

describe('thought prompts', () => {
  it('puts the instruction where {instruction} is, once', () => {
    const text = applyThoughtPrompt(GENERIC_THOUGHT_PROMPT, 'Write a haiku.');
    expect(text.endsWith('User query: Write a haiku.')).toBe(true);
    expect(text).toContain('"Here is my response:"');
    expect(text).not.toContain('{instruction}');
  });

  it('copies replacement patterns in the instruction literally', () => {
    expect(applyThoughtPrompt(SPECIFIC_THOUGHT_PROMPT, "costs $& and $1 and $'").endsWith("User query: costs $& and $1 and $'")).toBe(true);
  });

  it('leaves the instruction alone for the answer-line prompt, whose marker starts a direct answer too', () => {
    expect(applyThoughtPrompt(ANSWER_LINE_PROMPT, 'Sam has 3 cats.')).toBe('Sam has 3 cats.');
    expect(ANSWER_LINE_PROMPT.directPrefix).toBe(ANSWER_LINE_PROMPT.marker);
  });

  it('refuses a template without the slot, with it twice, and a blank marker', () => {
    expect(() => checkThoughtPrompt({ name: 'x', template: 'no slot', marker: '<R>' })).toThrow(OptionError);
    expect(() => checkThoughtPrompt({ name: 'x', template: '{instruction} {instruction}', marker: '<R>' })).toThrow(/exactly once, got 2/);
    expect(() => checkThoughtPrompt({ name: 'x', template: '{instruction}', marker: '  ' })).toThrow(/marker/);
    expect(() => checkThoughtPrompt(GENERIC_THOUGHT_PROMPT)).not.toThrow();
  });
});
