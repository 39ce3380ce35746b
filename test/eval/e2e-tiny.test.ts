// A small evaluation end to end on the tiny random models (garbage text, real formats): the CLI writes
// its files with rows of the right shape, and the engine's KV pools are all free afterwards.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evalCommand } from '../../lib/cli/commands/eval.js';
import { Engine } from '../../lib/engine/engine.js';
import { parseDataset } from '../../lib/eval/dataset.js';
import { buildPlan } from '../../lib/eval/plan.js';
import { runEval } from '../../lib/eval/runner.js';

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures');
const POLICY = path.join(FIXTURES, 'tiny', 'llama-f32');
const PRM = path.join(FIXTURES, 'tiny-prm', 'qwen2-prm');
const DATA = [
  { problem: 'Ann has 3 apples. She buys 2 more. How many apples does she have?', answer: '5', level: 1, unique_id: 'a' },
  { problem: 'Bo has 9 pens. He loses 4. How many pens does he have?', answer: '5', level: 2, unique_id: 'b' },
];
const PARAMS = { maxStepTokens: 4, maxIterations: 3 };

let dir: string;
let dataFile: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'thinktree-eval-'));
  dataFile = path.join(dir, 'data.jsonl');
  await writeFile(dataFile, DATA.map((d) => `${JSON.stringify(d)}\n`).join(''));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('thinktree eval on the tiny models', () => {
  it('writes results.json rows for greedy, majority and beam at budgets 1 and 2, per level', async () => {
    let out = '';
    let err = '';
    const outDir = path.join(dir, 'out');
    const jsonFile = path.join(dir, 'rows.json');
    const code = await evalCommand.run(
      ['--data', dataFile, '--model', POLICY, '--prm', PRM, '--strategy', 'majority,beam', '--budget', '1,2',
        '--max-step-tokens', '4', '--max-iterations', '3', '--threads', '2', '--out', outDir, '--json', jsonFile],
      { stdout: (s) => void (out += s), stderr: (s) => void (err += s) },
    );
    expect(err).not.toMatch(/warning/);
    expect(code).toBe(0);
    const rows = JSON.parse(await readFile(path.join(outDir, 'results.json'), 'utf8')) as Record<string, unknown>[];
    expect(JSON.parse(await readFile(jsonFile, 'utf8'))).toEqual(rows);
    expect(rows.map((r) => `${r.strategy}@${r.budget}/L${r.level}`)).toEqual([
      'greedy@1/L1', 'greedy@1/L2', 'majority@1/L1', 'majority@1/L2', 'majority@2/L1', 'majority@2/L2',
      'beam@1/L1', 'beam@1/L2', 'beam@2/L1', 'beam@2/L2',
    ]);
    for (const r of rows) {
      expect(Object.keys(r).sort()).toEqual(['accuracy', 'budget', 'correct', 'flops', 'level', 'n', 'strategy', 'tokens']);
      expect(r.n).toBe(1);
      expect(r.accuracy).toBe((r.correct as number) / 1);
      expect(r.tokens).toBeGreaterThan(0);
      expect(r.flops).toBeGreaterThan(0);
    }
    expect(out).toContain(`Wrote results.json, results.md, accuracy.svg, problems.jsonl to ${outDir}`);
    expect(await readFile(path.join(outDir, 'accuracy.svg'), 'utf8')).toMatch(/^<svg /);
  });

  it('returns every KV page of both models once the evaluation has ended', async () => {
    const engine = await Engine.load(POLICY, PRM, {
      policy: { threads: 2, kvCacheBytes: 16 << 20, precision: 'f32' },
      prm: { threads: 2, kvCacheBytes: 16 << 20, precision: 'f32' },
    });
    try {
      const records = parseDataset(DATA.map((d) => JSON.stringify(d)).join('\n'), 'data.jsonl');
      const plan = buildPlan({ strategies: ['majority', 'beam'], budgets: [1, 2], params: PARAMS });
      const results = await runEval(engine, records, { configs: plan.configs, params: PARAMS, concurrency: 8 });
      expect(results).toHaveLength(2 * 5);
      const beam = results.filter((r) => r.strategy === 'beam');
      const majority = results.filter((r) => r.strategy === 'majority');
      expect(beam.every((r) => r.tokens > 0)).toBe(true);
      expect(majority.every((r) => r.tokens > 0)).toBe(true);
      const kv = engine.kvStats();
      expect(kv.policy.pagesFree).toBe(kv.policy.pagesTotal);
      expect(kv.prm!.pagesFree).toBe(kv.prm!.pagesTotal);
      expect(engine.backend.liveNodes).toBe(0);
    } finally {
      engine.dispose();
    }
  });
});
