import type { ProblemResult } from '../../lib/eval/runner.js';

/** A per-problem result with only the fields a test cares about set. */
export function result(strategy: string, budget: number, level: number, correct: boolean, flops = 0, tokens = 0): ProblemResult {
  return {
    strategy,
    searchStrategy: strategy === 'greedy' ? 'majority' : (strategy as ProblemResult['searchStrategy']),
    budget,
    level,
    uniqueId: `${strategy}-${budget}-${level}`,
    answer: correct ? '1' : '2',
    expected: '1',
    correct,
    flops,
    tokens,
    generations: budget,
    wallMs: 1,
    stopReason: 'done',
  };
}

/**
 * Checks that `xml` is well formed as far as the chart needs: tags nest and close in order, attribute
 * values are quoted, and text holds no raw `<` or a bare `&`. Returns the element names in order.
 */
export function checkWellFormed(xml: string): string[] {
  const stack: string[] = [];
  const names: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) throw new Error(`bare & in text near ${i}`);
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (m === null) throw new Error(`malformed tag at ${lt}: ${xml.slice(lt, lt + 40)}`);
    const [, closing, name, , selfClosing] = m;
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at ${lt}`);
    } else {
      names.push(name!);
      if (!selfClosing) stack.push(name!);
    }
    i = tag.lastIndex;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return names;
}
