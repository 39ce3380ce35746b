#!/usr/bin/env node
// The policy's own sibling candidates, sampled by the package's native engine (about 50x faster than
// the PyTorch sampler, and the very sampler a search uses): each problem is walked along a right path;
// at every state `--k` next steps are sampled at `--temperature` (forks of one sequence, so the prefix
// KV is shared), each is labelled by the exact checker (right = it and every step before it right; an
// answer step must give the right answer), the state is written out, and the walk goes on with the
// first right candidate. It ends when no candidate is right or an answer is given.
//
//   node tools/train/siblings.mjs --data FILE.jsonl --out FILE.jsonl [--model models/policy] [--k 16]
//        [--levels 2,3,4,5] [--limit N] [--skip N] [--seed 7] [--temperature 0.8] [--concurrency 32]
//
// Rows: {"level", "problem", "prefix": [steps], "candidates": [{"step", "correct", "reasons"}]}, the
// format tools/train/prm_siblings.py ranks and train_prm.py trains on (as one of its --data files). A summary per level
// (problems, solved by the walk, states, mixed states) goes to stderr as JSON.
// Needs the built package (npm run build) and `npx tsc -p tools/train/tsconfig.json`.

import { createWriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { evaluation, loadModel } from '../../dist/index.js';
import { checkSolution } from './dist/tasks/arithmetic/index.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string', default: 'models/policy' },
    k: { type: 'string', default: '16' },
    levels: { type: 'string', default: '2,3,4,5' },
    limit: { type: 'string' },
    skip: { type: 'string', default: '0' },
    seed: { type: 'string', default: '7' },
    temperature: { type: 'string', default: '0.8' },
    concurrency: { type: 'string', default: '32' },
    'max-steps': { type: 'string', default: '12' },
    'max-step-tokens': { type: 'string', default: '64' },
    threads: { type: 'string' },
  },
});
if (!values.data || !values.out) throw new TypeError('siblings.mjs needs --data FILE.jsonl and --out FILE.jsonl');
const k = Number(values.k);
const levels = new Set(values.levels.split(',').map(Number));
const skip = Number(values.skip);
const limit = values.limit === undefined ? Infinity : Number(values.limit);
const temperature = Number(values.temperature);
const maxSteps = Number(values['max-steps']);
const maxStepTokens = Number(values['max-step-tokens']);

const seen = new Map();
const records = (await evaluation.readDataText(values.data)).split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l))
  .filter((r) => {
    if (!levels.has(r.level)) return false;
    const n = (seen.get(r.level) ?? 0) + 1;
    seen.set(r.level, n);
    return n > skip && n <= skip + limit;
  });

const model = await loadModel(values.model, { threads: Number(values.threads ?? availableParallelism()), kvCacheBytes: 256 << 20 });
const out = createWriteStream(values.out);
const summary = {};

const splitSteps = (text) => text.split('\n\n').map((s) => s.trim()).filter((s) => s !== '');

async function walk(record, index) {
  const root = await model.createSequence({ seed: Number(values.seed) * 1_000_003 + index });
  await model.appendTokens(root, model.chatPrompt([{ role: 'user', content: record.problem }], { addGenerationPrompt: true }));
  let path = '';
  let solved = false;
  const rows = [];
  try {
    for (let depth = 0; depth < maxSteps; depth++) {
      const kids = await model.forkMany(Array.from({ length: k }, () => root));
      let steps;
      try {
        steps = await model.generateStep(kids, { temperature, maxTokens: maxStepTokens, stop: ['\n\n'] });
      } catch (err) {
        await model.releaseMany(kids);
        throw err;
      }
      const before = splitSteps(path).length;
      let pick = -1;
      const candidates = steps.map((s, i) => {
        const res = checkSolution(record.structured, path + s.text);
        const final = s.finishReason !== 'stop' || s.text.includes('\\boxed{');
        let right = res.steps.length > before && res.steps.every((st) => st.correct);
        if (final) right = right && res.solved;
        if (right && pick < 0) pick = i;
        return { step: s.text.trim(), correct: right, reasons: res.steps.at(-1)?.reasons ?? ['empty'], final };
      });
      rows.push({ level: record.level, problem: record.problem, prefix: splitSteps(path),
        candidates: candidates.map(({ final: _f, ...c }) => c) });
      if (pick >= 0) {
        // Continue the root with the chosen step's tokens (the fork's KV is dropped; re-prefilling
        // one step is cheap and keeps the root the only long-lived sequence).
        await model.appendTokens(root, steps[pick].tokens);
        path += steps[pick].text;
      }
      await model.releaseMany(kids);
      if (pick < 0) break;
      if (candidates[pick].final) {
        solved = true;
        break;
      }
    }
  } finally {
    await model.release(root);
  }
  const s = (summary[record.level] ??= { problems: 0, solved: 0, states: 0, mixed: 0 });
  s.problems++;
  s.solved += solved;
  s.states += rows.length;
  s.mixed += rows.filter((r) => r.candidates.some((c) => c.correct) && r.candidates.some((c) => !c.correct)).length;
  return rows;
}

let next = 0;
let done = 0;
async function worker() {
  while (next < records.length) {
    const i = next++;
    for (const row of await walk(records[i], i)) out.write(`${JSON.stringify(row)}\n`);
    if (++done % 200 === 0) process.stderr.write(`${done}/${records.length}\n`);
  }
}
await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
await new Promise((resolve) => out.end(resolve));
model.dispose();
for (const s of Object.values(summary)) s.oracle_walk_solved = Math.round((s.solved / s.problems) * 1000) / 1000;
process.stderr.write(`${JSON.stringify(summary)}\n`);
