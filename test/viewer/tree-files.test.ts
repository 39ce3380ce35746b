// `eval --trees`: every (problem, configuration) of an evaluation gets its tree page, greedy told apart
// from majority at N = 1, and index.html links every page with its verdict.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EvalRecord } from '../../lib/eval/dataset.js';
import { buildPlan } from '../../lib/eval/plan.js';
import { runEval, type Searcher } from '../../lib/eval/runner.js';
import { safeName, TreeFolder, treeRecorder } from '../../lib/viewer/tree-files.js';
import { main } from '../../lib/cli/main.js';
import { MODELS, MODELS_READY } from './real-search.js';
import { beamLikeResult } from './synthetic.js';

const RECORDS: EvalRecord[] = [
  { problem: 'What is 2 + 3?', answer: '5', level: 1, uniqueId: 'test/algebra/1.json' },
  { problem: 'What is <b>7</b> + 1?', answer: '8', level: 2, uniqueId: 'test/algebra/2.json' },
];

/** Answers every question with a small synthetic tree whose answer is '5'. */
const searcher: Searcher = {
  async search() {
    const r = beamLikeResult(4, 2, 2, 7);
    return { ...r, answer: '5' };
  },
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'thinktree-trees-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('treeRecorder', () => {
  it('writes one page per problem and configuration, greedy apart from majority at N = 1', async () => {
    const plan = buildPlan({ strategies: ['majority', 'beam'], budgets: [1, 4], greedy: true, calibration: null, hasPrm: true, params: { temperature: 0.8 } });
    const folder = new TreeFolder(dir);
    await runEval(treeRecorder(searcher, RECORDS, plan.configs, folder), RECORDS, { configs: plan.configs, params: { temperature: 0.8, aggregation: 'min' } });
    const labels = plan.configs.map((c) => `${c.label}-N${c.budget}`).sort();
    expect(labels).toContain('greedy-N1');
    expect(labels).toContain('majority-N1');
    expect((await readdir(dir)).sort()).toEqual(labels);
    for (const l of labels) expect((await readdir(path.join(dir, l))).sort()).toEqual(['test_algebra_1.json.html', 'test_algebra_2.json.html']);
    expect(folder.pages).toHaveLength(plan.configs.length * RECORDS.length);
  });

  it('writes an index linking every page, with the verdict and the problem escaped', async () => {
    const plan = buildPlan({ strategies: ['beam'], budgets: [4], greedy: false, calibration: null, hasPrm: true, params: {} });
    const folder = new TreeFolder(dir);
    await runEval(treeRecorder(searcher, RECORDS, plan.configs, folder), RECORDS, { configs: plan.configs });
    const index = await readFile(await folder.writeIndex(), 'utf8');
    expect(index).toContain('<a href="beam-N4/test_algebra_1.json.html">✓ 5</a>');
    expect(index).toContain('<a href="beam-N4/test_algebra_2.json.html">✗ 5</a>');
    expect(index).toContain('What is &lt;b&gt;7&lt;/b&gt; + 1?');
    for (const p of folder.pages) expect(existsSync(path.join(dir, p.file))).toBe(true);
  });

  it('makes file names of problem ids', () => {
    expect(safeName('test/precalculus/807.json')).toBe('test_precalculus_807.json');
    expect(safeName('../../etc/passwd')).toBe('etc_passwd');
    expect(safeName('')).toBe('problem');
  });
});

describe.skipIf(!MODELS_READY)('thinktree eval --trees on the shipped models', () => {
  it('writes a tree page per problem and an index', async () => {
    const trees = path.join(dir, 'trees');
    let out = '';
    const code = await main(
      ['eval', '--data', path.join(MODELS, 'data', 'test-level-2.jsonl.gz'), '--model', path.join(MODELS, 'policy'), '--prm', path.join(MODELS, 'prm'),
        '--strategy', 'beam', '--budget', '4', '--limit', '2', '--no-greedy', '--threads', '1', '--out', path.join(dir, 'out'), '--trees', trees],
      { stdout: (s) => void (out += s), stderr: () => {} },
    );
    expect(code).toBe(0);
    expect(out).toContain(`Wrote 2 search trees to ${trees}; open ${path.join(trees, 'index.html')}`);
    const pages = await readdir(path.join(trees, 'beam-N4'));
    expect(pages).toHaveLength(2);
    const page = await readFile(path.join(trees, 'beam-N4', pages[0]!), 'utf8');
    expect(page).toContain('<script id="search-data" type="application/json">{"format":"thinktree.search-tree","version":1,');
  });
});
