// The package root exports both default sets: the library's (sized for MATH) and the CLI commands'.
import { describe, expect, it } from 'vitest';
import { CLI_SEARCH_DEFAULTS, SEARCH_DEFAULTS } from '../../lib/index.js';
import { resolveParams } from '../../lib/search/options.js';

describe('search default sets', () => {
  it('documents where the library and the CLI differ: aggregation, step tokens, iterations', () => {
    expect(SEARCH_DEFAULTS).toMatchObject({ aggregation: 'last', maxStepTokens: 2048, maxIterations: 40, temperature: 0.8 });
    expect(CLI_SEARCH_DEFAULTS).toEqual({ aggregation: 'min', maxStepTokens: 64, maxIterations: 10, temperature: 0.8 });
  });

  it('CLI_SEARCH_DEFAULTS spreads into search options as they are', () => {
    const p = resolveParams('beam', { ...CLI_SEARCH_DEFAULTS, n: 16 });
    expect(p).toMatchObject({ aggregation: 'min', maxStepTokens: 64, maxIterations: 10, beamWidth: 4 });
  });
});
