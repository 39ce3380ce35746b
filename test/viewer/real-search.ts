// A real search on the shipped demo models (when they exist: they are trained offline and may be absent
// from a checkout), serialised as the CLI serialises it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../lib/engine/engine.js';
import { EVAL_SEARCH_PARAMS } from '../../lib/eval/defaults.js';
import type { SearchResult, StrategyName } from '../../lib/search/types.js';
import { serializeSearch, type SearchTreeJson } from '../../lib/viewer/serialize.js';

export const MODELS = path.resolve(import.meta.dirname, '..', '..', 'models');
export const MODELS_READY = existsSync(path.join(MODELS, 'policy', 'config.json')) && existsSync(path.join(MODELS, 'prm', 'config.json'));

/** A level-3 test problem of the shipped set (three operations: trees four steps deep). */
export const QUESTION = 'Tom has 70 beads. He loses 22. Later, he buys 87 more, then gives 6 to a friend. How many beads does he have in the end?';

export interface RealSearch {
  result: SearchResult;
  json: SearchTreeJson;
}

export async function realSearch(strategy: StrategyName, n: number, beamWidth = 4, question = QUESTION): Promise<RealSearch> {
  const engine = await Engine.load(path.join(MODELS, 'policy'), path.join(MODELS, 'prm'), { policy: { threads: 1 }, prm: { threads: 1 } });
  try {
    const searchOptions = { ...EVAL_SEARCH_PARAMS, strategy, n, beamWidth, seed: 3 };
    const result = await engine.search(question, searchOptions);
    const info = engine.backend.info;
    return { result, json: serializeSearch(result, { question, searchOptions, models: { policy: info.policyId, prm: info.prmId } }) };
  } finally {
    engine.dispose();
  }
}
