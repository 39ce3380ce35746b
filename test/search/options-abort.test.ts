import { describe, expect, it } from 'vitest';
import { OptionError } from '../../lib/errors.js';
import { search } from '../../lib/search/search.js';
import { STRATEGY_NAMES, type SearchOptions, type StrategyName } from '../../lib/search/types.js';
import { ScriptedBackend, treeScript } from './scripted-backend.js';

const script = () => treeScript({ depth: 3, answers: [{ answer: '1', p: 0.5 }, { answer: '2', p: 0.5 }] });

describe('options are validated before any backend call', () => {
  const cases: [string, (b: ScriptedBackend) => SearchOptions, string | RegExp][] = [
    [
      'an unknown strategy, listing the known ones',
      (backend) => ({ backend, strategy: 'beams' as StrategyName, n: 4 }),
      `Unknown strategy \`beams\`; known strategies: ${STRATEGY_NAMES.join(', ')}`,
    ],
    [
      'n not divisible by beamWidth',
      (backend) => ({ backend, strategy: 'beam', n: 10, beamWidth: 4 }),
      'Expected `beamWidth` to divide `n`, got n=10, beamWidth=4',
    ],
    ['a zero budget', (backend) => ({ backend, strategy: 'best-of-n', n: 0 }), 'Expected `n` to be a positive integer, got 0'],
    [
      'an unknown aggregation',
      (backend) => ({ backend, strategy: 'best-of-n', n: 4, aggregation: 'avg' as 'last' }),
      'Unknown aggregation `avg`; expected one of last, min, prod, mean',
    ],
    [
      'a lookahead strategy without lookahead steps',
      (backend) => ({ backend, strategy: 'lookahead', n: 4, beamWidth: 2, lookahead: 0 }),
      /lookahead.*at least 1/,
    ],
    ['a zero token cap', (backend) => ({ backend, strategy: 'beam', n: 4, tokenCap: 0 }), /tokenCap/],
    ['compute-optimal without a table', (backend) => ({ backend, strategy: 'compute-optimal', n: 4 }), /calibration/],
  ];
  it.each(cases)('rejects %s', async (_, make, message) => {
    const backend = new ScriptedBackend(script());
    const p = search('q', make(backend));
    await expect(p).rejects.toBeInstanceOf(OptionError);
    await expect(p).rejects.toThrow(message);
    expect(backend.totalCalls).toBe(0);
  });

  it.each(['weighted-best-of-n', 'beam', 'dvts', 'mcts', 'lookahead', 'revisions'] as const)(
    'rejects %s on a backend without a PRM',
    async (strategy) => {
      const backend = new ScriptedBackend(script(), { prm: false });
      await expect(search('q', { backend, strategy, n: 4, beamWidth: 2 })).rejects.toThrow(
        /scores steps with a process reward model, but the backend has none/,
      );
      expect(backend.totalCalls).toBe(0);
    },
  );
});

describe('abort', () => {
  const strategies = ['majority', 'best-of-n', 'beam', 'lookahead', 'dvts', 'mcts', 'revisions'] as const;

  it.each(strategies)('%s rejects with AbortError mid-search and releases every node', async (strategy) => {
    const controller = new AbortController();
    let generates = 0;
    const backend = new ScriptedBackend(script(), {
      onCall: (method) => {
        if (method === 'generate' && ++generates === 3) controller.abort();
      },
    });
    const p = search('q', { backend, strategy, n: 4, beamWidth: 2, signal: controller.signal });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(backend.calls.generate).toBe(3);
    expect(backend.created).toBeGreaterThan(1);
    expect(backend.live.size).toBe(0);
  });

  it('an already aborted signal rejects before any backend call', async () => {
    const backend = new ScriptedBackend(script());
    await expect(
      search('q', { backend, strategy: 'beam', n: 4, beamWidth: 2, signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(backend.totalCalls).toBe(0);
  });

  it('a backend failure also releases every node', async () => {
    const backend = new ScriptedBackend(script(), {
      onCall: (method, i) => {
        if (method === 'score' && i > 6) throw new Error('PRM crashed');
      },
    });
    await expect(search('q', { backend, strategy: 'dvts', n: 4, beamWidth: 2 })).rejects.toThrow('PRM crashed');
    expect(backend.live.size).toBe(0);
  });
});
