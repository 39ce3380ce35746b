// The RemoteBackend's small parts: the concurrency limiter, seeds, token splits, PRM text layouts, the
// response reading rules, and the protocol checks' messages.
import { describe, expect, it } from 'vitest';
import { chatml, chatTemplateOf, mathShepherdLayout, outcomeText, qwenMathPrmLayout } from '../../lib/backends/http/layout.js';
import { Limiter } from '../../lib/backends/http/limiter.js';
import { paramsFromName } from '../../lib/backends/http/options.js';
import { finishOf, probabilities } from '../../lib/backends/http/reading.js';
import { mixSeed } from '../../lib/backends/http/seeds.js';
import { splitTokens } from '../../lib/backends/http/split.js';
import { demoModels } from '../../lib/demo-models.js';
import { parseCompletionRequest, parseCompletionResponse, parsePoolingResponse, ProtocolError } from '../../lib/protocol/index.js';

describe('Limiter', () => {
  it('runs at most `limit` tasks at once, in arrival order', async () => {
    const limiter = new Limiter(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        limiter.run(async () => {
          order.push(i);
          most = Math.max(most, ++running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
        }),
      ),
    );
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(limiter.running).toBe(0);
  });

  it('drops a waiter whose signal aborts, and the slot count stays right', async () => {
    const limiter = new Limiter(1);
    let release!: () => void;
    const holding = limiter.run(() => new Promise<void>((r) => (release = r)));
    const controller = new AbortController();
    const waiting = limiter.run(async () => 'ran', controller.signal);
    controller.abort();
    await expect(waiting).rejects.toThrow(/aborted/u);
    release();
    await holding;
    expect(limiter.running).toBe(0);
    expect(await limiter.run(async () => 'next')).toBe('next');
  });

  it('refuses a limit below one', () => {
    expect(() => new Limiter(0)).toThrow(/positive integer, got 0/u);
  });
});

describe('seeds and token splits', () => {
  it('mixSeed is a fixed function into [0, 2^31) that separates neighbours', () => {
    const seeds = new Set<number>();
    for (let a = 0; a < 50; a++) {
      for (let b = 0; b < 50; b++) {
        const s = mixSeed(a, b);
        expect(Number.isInteger(s) && s >= 0 && s < 2 ** 31).toBe(true);
        seeds.add(s);
      }
    }
    expect(seeds.size).toBe(2500);
    expect(mixSeed(42, 3)).toBe(mixSeed(42, 3));
    expect(mixSeed(2 ** 40 + 1, 0)).not.toBe(mixSeed(1, 0));
  });

  it('splitTokens splits in proportion to length and always sums to the total', () => {
    expect(splitTokens(10, [1, 1])).toEqual([5, 5]);
    expect(splitTokens(7, [3, 1])).toEqual([5, 2]);
    expect(splitTokens(0, [4, 5])).toEqual([0, 0]);
    for (const [total, weights] of [[97, [3, 5, 7, 11]], [1, [1, 1, 1]], [13, [0, 0]]] as const) {
      expect(splitTokens(total, weights).reduce((a, b) => a + b, 0)).toBe(total);
    }
  });

  it('paramsFromName reads B and M sizes and nothing else', () => {
    expect(paramsFromName('Qwen/Qwen2.5-Math-1.5B-Instruct')).toBe(1.5e9);
    expect(paramsFromName('Qwen/Qwen2.5-Math-PRM-7B')).toBe(7e9);
    expect(paramsFromName('HuggingFaceTB/SmolLM2-135M-Instruct')).toBe(1.35e8);
    expect(paramsFromName('policy')).toBeUndefined();
    expect(paramsFromName('gpt-4o')).toBeUndefined();
  });
});

describe('PRM text layouts', () => {
  const Q = 'What is 2 + 3?';

  it('Qwen2.5-Math-PRM: system, user question, then each step stripped and tagged', () => {
    const text = qwenMathPrmLayout().text(Q, ['  2 + 3 = 5.\n\n', 'The answer is \\boxed{5}.']);
    expect(text).toBe(
      '<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n' +
        `<|im_start|>user\n${Q}<|im_end|>\n<|im_start|>assistant\n2 + 3 = 5.<extra_0>The answer is \\boxed{5}.<extra_0>`,
    );
  });

  it('renders the same text from the demo PRM’s own chat template as from built-in ChatML', () => {
    const steps = ['a\n\n', 'b'];
    expect(qwenMathPrmLayout(chatTemplateOf(demoModels.prm)).text(Q, steps)).toBe(qwenMathPrmLayout(chatml).text(Q, steps));
  });

  it('Math-Shepherd: the tag after each step, the step’s own separator after the tag', () => {
    expect(mathShepherdLayout().text(Q, ['Step 1: 2 + 3 = 5.\n\n', 'Step 2: answer 5'])).toBe(`${Q} Step 1: 2 + 3 = 5. ки\n\nStep 2: answer 5 ки`);
    expect(mathShepherdLayout().text(Q, ['a', 'b'])).toBe(`${Q} a ки\nb ки`);
  });

  it('an outcome model sees the question and the whole solution as one exchange', () => {
    expect(outcomeText(chatml, Q, ['a\n\n', 'b\n\n'])).toBe(`<|im_start|>user\n${Q}<|im_end|>\n<|im_start|>assistant\na\n\nb<|im_end|>\n`);
  });
});

describe('reading responses', () => {
  const choice = (finish_reason: string | null, stop_reason: string | number | null) => ({ index: 0, text: 'x', logprobs: null, finish_reason, stop_reason });

  it('maps finish_reason and stop_reason to the step’s finish', () => {
    expect(finishOf(choice('stop', '\n\n'))).toEqual({ finish: 'stop', stop: '\n\n' });
    expect(finishOf(choice('stop', null))).toEqual({ finish: 'eos', stop: null });
    expect(finishOf(choice('stop', 151645))).toEqual({ finish: 'eos', stop: null });
    expect(finishOf(choice('length', null))).toEqual({ finish: 'length', stop: null });
    expect(() => finishOf(choice('abort', null))).toThrow(/finish_reason is "abort"/u);
  });

  it('keeps a distribution and softmaxes logits', () => {
    expect(probabilities([0.25, 0.75])).toEqual([0.25, 0.75]);
    const p = probabilities([0, Math.log(3)]);
    expect(p[1]).toBeCloseTo(0.75, 12);
  });
});

describe('protocol checks name the field', () => {
  it.each([
    [{ prompt: 'x', max_tokens: 'ten' }, 'max_tokens must be an integer'],
    [{ prompt: 'x', top_p: 0 }, 'top_p must be in (0, 1], got 0'],
    [{ prompt: 'x', n: 0 }, 'n must be ≥ 1, got 0'],
    [{ prompt: [] }, 'prompt must not be empty'],
    [{ prompt: [1, 'a'] }, 'prompt must be a string, an array of strings'],
    [{ stop: '\n' }, 'prompt is required'],
    [{ prompt: 'x', stop: [1] }, 'stop must be a string or an array of strings'],
  ])('completions request %j', (body, message) => {
    expect(() => parseCompletionRequest(body)).toThrow(message);
  });

  it('a completions response with a bad choice says where', () => {
    const err = (() => {
      try {
        parseCompletionResponse({ choices: [{ index: 0, text: 3 }], usage: { prompt_tokens: 1, total_tokens: 1 } });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).param).toBe('choices[0].text');
  });

  it('a pooling response whose rows are not numbers says where', () => {
    expect(() => parsePoolingResponse({ data: [{ index: 0, data: [[0.1, 'x']] }], usage: { prompt_tokens: 1, total_tokens: 1 } })).toThrow('data[0].data[0][1] must be a number');
  });
});
