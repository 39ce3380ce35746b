// The search-tree JSON (format v1): what a real search on the shipped models serialises to validates
// against the shipped JSON Schema and says what the SearchResult says.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { aggregateScores } from '../../lib/search/aggregate.js';
import type { SearchResult, TreeNode } from '../../lib/search/types.js';
import { SEARCH_TREE_SCHEMA, SEARCH_TREE_VERSION, searchJsonText, serializeSearch, type SearchTreeJson } from '../../lib/viewer/serialize.js';
import { validate } from './json-schema.js';
import { MODELS_READY, realSearch, type RealSearch } from './real-search.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SCHEMA = JSON.parse(readFileSync(path.join(ROOT, 'schema', 'search-tree.v1.schema.json'), 'utf8')) as Record<string, unknown>;

function node(id: number, parent: number | null, stepText: string, prmScore: number | null): TreeNode {
  const depth = parent === null ? 0 : 1 + (id > 4 ? 1 : 0);
  return { id, parent, kind: parent === null ? 'root' : 'step', stepText, prmScore, tokens: 3, logprob: parent === null ? 0 : -0.5 * id, depth, finish: parent === null ? null : 'stop', group: null };
}

/** Beam search, one beam of two kept: root → a, b; a → a1 (chosen), a2 (finished, another answer); b pruned. */
const SMALL: SearchResult = {
  strategy: 'beam',
  answer: '5',
  completion: { text: 'a a1 \\boxed{5}', steps: ['a ', 'a1 \\boxed{5}'], stepScores: [0.9, 0.8], score: 0.8 },
  candidates: [
    { text: 'a a1 \\boxed{5}', steps: ['a ', 'a1 \\boxed{5}'], stepScores: [0.9, 0.8], aggregatedScore: 0.8, answer: '5', finished: true },
    { text: 'a a2 \\boxed{6}', steps: ['a ', 'a2 \\boxed{6}'], stepScores: [0.9, 0.3], aggregatedScore: 0.3, answer: '6', finished: true },
  ],
  tree: [node(0, null, '', null), node(1, 0, 'a ', 0.9), node(2, 0, 'b ', 0.1), node(3, 1, 'a1 \\boxed{5}', 0.8), node(4, 1, 'a2 \\boxed{6}', 0.3)],
  usage: { generations: 2, policySteps: 4, policyTokensGenerated: 12, policyTokensPrefilled: 5, prmTokensScored: 20, flops: 1e6, wallMs: 3 },
  stopReason: 'done',
};
// node() puts ids above 4 one level deeper; here every child of a step is at depth 2.
SMALL.tree[3]!.depth = 2;
SMALL.tree[4]!.depth = 2;

const serializeSmall = () => serializeSearch(SMALL, { question: 'q?', searchOptions: { strategy: 'beam', n: 2, beamWidth: 2, aggregation: 'min' } });

describe('the schema validator used here', () => {
  it('accepts a serialised search and rejects one with a missing field, a wrong type or an unknown fate', () => {
    const good = serializeSmall();
    expect(validate(SCHEMA, good)).toEqual([]);
    const { usage: _, ...noUsage } = good;
    expect(validate(SCHEMA, noUsage)).toContain('$: missing usage');
    expect(validate(SCHEMA, { ...good, answer: 5 })).toEqual(['$.answer: expected string or null, got number']);
    const badFate = { ...good, nodes: good.nodes.map((n, i) => (i === 2 ? { ...n, fate: 'gone' } : n)) };
    expect(validate(SCHEMA, badFate)[0]).toMatch(/^\$\.nodes\[2\]\.fate: "gone" is not one of/);
    expect(validate(SCHEMA, { ...good, extra: 1 })).toEqual(['$: unexpected property extra']);
  });
});

describe('serializeSearch on a hand-made beam search', () => {
  const json = serializeSmall();

  it('marks the chosen path, the other finished candidate, and the pruned branch', () => {
    expect(json.nodes.map((n) => n.fate)).toEqual(['chosen', 'chosen', 'pruned', 'chosen', 'finished']);
  });

  it('values each node by its path rewards under the aggregation', () => {
    expect(json.nodes.map((n) => n.value)).toEqual([null, 0.9, 0.1, 0.8, 0.3]);
  });

  it('links candidates to their end nodes and counts the vote by answer', () => {
    expect(json.candidates.map((c) => [c.node, c.chosen])).toEqual([[3, true], [4, false]]);
    expect(json.vote).toEqual([
      { answer: '5', candidates: [0], count: 1, scoreSum: 0.8, chosen: true },
      { answer: '6', candidates: [1], count: 1, scoreSum: 0.3, chosen: false },
    ]);
  });

  it('records the primitive options and leaves out callbacks', () => {
    const withCallback = serializeSearch(SMALL, { question: 'q?', searchOptions: { strategy: 'beam', n: 2, aggregation: 'last', onProgress: () => {} } });
    expect(withCallback.options).toEqual({ strategy: 'beam', aggregation: 'last', n: 2 });
  });

  it('writes text that parses back to the same object', () => {
    expect(JSON.parse(searchJsonText(json))).toEqual(json);
  });
});

describe.skipIf(!MODELS_READY)(`a real search on the shipped models${MODELS_READY ? '' : ' (skipped: models/policy or models/prm is absent)'}`, () => {
  const runs: Record<string, RealSearch> = {};
  beforeAll(async () => {
    runs.beam = await realSearch('beam', 16);
    runs.dvts = await realSearch('dvts', 16);
    runs.mcts = await realSearch('mcts', 8);
  });

  it.each(['beam', 'dvts', 'mcts'])('%s validates against schema/search-tree.v1.schema.json', (name) => {
    expect(validate(SCHEMA, JSON.parse(searchJsonText(runs[name]!.json)))).toEqual([]);
  });

  it.each(['beam', 'dvts', 'mcts'])('%s: every node says what the tree says', (name) => {
    const { result, json } = runs[name]!;
    expect(json.nodes).toHaveLength(result.tree.length);
    json.nodes.forEach((n, i) => {
      const t = result.tree[i]!;
      expect([n.id, n.parent, n.kind, n.depth, n.text, n.reward, n.tokens, n.logprob, n.finish, n.group]).toEqual([
        t.id, t.parent, t.kind, t.depth, t.stepText, t.prmScore, t.tokens, t.logprob, t.finish, t.group,
      ]);
      if (t.visits !== undefined) expect(n.mcts).toEqual({ visits: t.visits, value: t.value, prior: t.prior });
    });
    expect(json.nodes.filter((n) => n.kind === 'step').every((n) => n.tokens > 0 && n.logprob <= 0)).toBe(true);
  });

  it.each(['beam', 'dvts'])('%s: the chosen nodes are one path from the root whose steps and value are the completion', (name) => {
    const { result, json } = runs[name]!;
    const chosen = json.nodes.filter((n) => n.fate === 'chosen');
    chosen.slice(1).forEach((n, i) => expect(n.parent).toBe(chosen[i]!.id));
    expect(chosen.slice(1).map((n) => n.text)).toEqual(result.completion!.steps);
    expect(chosen.slice(1).map((n) => n.reward)).toEqual(result.completion!.stepScores);
    expect(chosen.at(-1)!.value).toBe(result.completion!.score);
    expect(chosen.at(-1)!.value).toBe(aggregateScores(result.completion!.stepScores, 'min'));
  });

  it.each(['beam', 'dvts'])('%s: candidates, vote, answer and usage are the result', (name) => {
    const { result, json }: { result: SearchResult; json: SearchTreeJson } = runs[name]!;
    expect(json.answer).toBe(result.answer);
    expect(json.usage).toEqual(result.usage);
    expect(json.candidates.map((c) => [c.text, c.steps, c.stepScores, c.score, c.answer, c.finished])).toEqual(
      result.candidates.map((c) => [c.text, c.steps, c.stepScores, c.aggregatedScore, c.answer, c.finished]),
    );
    expect(json.candidates.filter((c) => c.chosen)).toHaveLength(1);
    expect(json.vote.reduce((s, g) => s + g.count, 0)).toBe(result.candidates.filter((c) => c.answer !== null).length);
    expect(json.vote.find((g) => g.chosen)!.answer).toBe(result.answer);
    for (const c of json.candidates) {
      expect(c.node).not.toBeNull();
      expect(['chosen', 'finished']).toContain(json.nodes[c.node!]!.fate);
    }
    expect(json.options).toMatchObject({ strategy: name, n: 16, beamWidth: 4, aggregation: 'min', seed: 3 });
  });
});

describe('the package', () => {
  it('exports the schema file’s path, and the schema is for the version serializeSearch writes', () => {
    expect(SEARCH_TREE_SCHEMA).toBe(path.join(ROOT, 'schema', 'search-tree.v1.schema.json'));
    expect((SCHEMA.properties as Record<string, { const?: unknown }>).version!.const).toBe(SEARCH_TREE_VERSION);
  });

  it('ships the schema', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('schema/*.schema.json');
  });
});
