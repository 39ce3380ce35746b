// `thinktree search` end to end on the shipped models: it prints the answer, the chosen path, the vote,
// the tree and the usage, and writes JSON that validates against the shipped schema and a self-contained
// HTML page. Its usage mistakes exit 2 before any model loads.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { validate } from '../viewer/json-schema.js';
import { MODELS, MODELS_READY, QUESTION } from '../viewer/real-search.js';

const SCHEMA = JSON.parse(await readFile(path.resolve(import.meta.dirname, '..', '..', 'schema', 'search-tree.v1.schema.json'), 'utf8'));

async function cli(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'thinktree-search-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!MODELS_READY)(`thinktree search on the shipped models${MODELS_READY ? '' : ' (skipped: models/policy or models/prm is absent)'}`, () => {
  it('prints the answer, chosen path, vote, tree and usage, and writes valid JSON and HTML', async () => {
    const json = path.join(dir, 'search.json');
    const html = path.join(dir, 'search.html');
    const { code, out, err } = await cli(['search', QUESTION, '--n', '4', '--threads', '1', '--json', json, '--html', html]);
    expect(err).toContain('thinktree search: beam, N=4, M=4');
    expect(code).toBe(0);
    expect(out).toMatch(/^Question: Tom has 70 beads/);
    expect(out).toMatch(/\nAnswer: \d+\n/);
    expect(out).toMatch(/Chosen path \(PRM score of each step; path value \d\.\d{3} by min\):\n {2}\d\.\d{3} {2}70 /);
    expect(out).toContain('Vote over 4 candidates:');
    expect(out).toContain('Search tree (* chosen path, + kept, x pruned; PRM score):');
    expect(out).toMatch(/Usage: \d+ tokens generated, \d+ prefilled, \d+ scored by the PRM; \d+ steps; [\d.]+ [kMGT]?FLOP; [\d.]+ s/);
    expect(out).toContain(`Wrote ${json} and ${html}`);

    const doc = JSON.parse(await readFile(json, 'utf8'));
    expect(validate(SCHEMA, doc)).toEqual([]);
    expect(doc.question).toBe(QUESTION);
    expect(out).toContain(`Answer: ${doc.answer}\n`);
    expect(doc.options).toMatchObject({ strategy: 'beam', n: 4, beamWidth: 4, aggregation: 'min', temperature: 0.8, maxStepTokens: 64, maxIterations: 10, seed: 0 });

    const page = await readFile(html, 'utf8');
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).toContain('<script id="search-data" type="application/json">');
    expect(page).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
  });

  it('runs the strategy, budget and aggregation it is given', async () => {
    const json = path.join(dir, 'dvts.json');
    const { code } = await cli(['search', QUESTION, '--strategy', 'dvts', '--n', '4', '--beam-width', '2', '--aggregation', 'last', '--seed', '7', '--threads', '1', '--json', json]);
    expect(code).toBe(0);
    const doc = JSON.parse(await readFile(json, 'utf8'));
    expect(doc.options).toMatchObject({ strategy: 'dvts', n: 4, beamWidth: 2, aggregation: 'last', seed: 7 });
    expect(doc.candidates).toHaveLength(4);
  });

  it('runs majority voting with a policy of one’s own and no PRM', async () => {
    const json = path.join(dir, 'majority.json');
    const { code, err } = await cli(['search', QUESTION, '--model', path.join(MODELS, 'policy'), '--strategy', 'majority', '--n', '4', '--threads', '1', '--json', json]);
    expect(err).toContain('PRM (none)');
    expect(code).toBe(0);
    const doc = JSON.parse(await readFile(json, 'utf8'));
    expect(validate(SCHEMA, doc)).toEqual([]);
    expect(doc.models.prm).toBeNull();
    expect(doc.nodes.every((n: { reward: number | null }) => n.reward === null)).toBe(true);
  });
});

describe('thinktree search usage mistakes exit 2 and load nothing', () => {
  it.each([
    [['search'], 'Expected one QUESTION argument, got 0'],
    [['search', 'a', 'b'], 'Expected one QUESTION argument, got 2'],
    [['search', 'q', '--strategy', 'bem'], "--strategy must be one of majority, best-of-n, weighted-best-of-n, beam, lookahead, dvts, mcts, revisions, compute-optimal, got 'bem'; did you mean 'beam'?"],
    [['search', 'q', '--n', '6', '--beam-width', '4'], 'Expected `beamWidth` to divide `n`, got n=6, beamWidth=4'],
    [['search', 'q', '--aggregation', 'max'], "--aggregation must be one of last, min, prod, mean, got 'max'"],
    [['search', 'q', '--json', '/nonexistent-folder/x.json'], '--json /nonexistent-folder/x.json: folder /nonexistent-folder does not exist'],
    [['search', 'q', '--html', '/'], '--html / is a folder; give a file name'],
  ])('%j', async (argv, sentence) => {
    const { code, out, err } = await cli([...argv, '--model', '/nonexistent-model', '--prm', '/nonexistent-prm']);
    expect(code).toBe(2);
    expect(err).toContain(`thinktree search: ${sentence}`);
    expect(err).toContain('Usage: thinktree search ');
    expect(out).toBe('');
  });

  it('asks for a PRM when a policy of one’s own comes without one and the strategy needs it', async () => {
    const { code, err } = await cli(['search', 'q', '--model', '/nonexistent-model', '--strategy', 'dvts']);
    expect(code).toBe(2);
    expect(err).toContain('thinktree search: --strategy dvts scores steps with a process reward model: give --prm DIR (or --strategy majority)');
  });

  it('names a missing model folder before loading anything', async () => {
    const { code, err } = await cli(['search', 'q', '--model', path.join(dir, 'none'), '--strategy', 'majority']);
    expect(code).toBe(2);
    expect(err).toContain(`No policy in ${path.join(dir, 'none')} (config.json is missing)`);
  });
});
