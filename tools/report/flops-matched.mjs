#!/usr/bin/env node
// FLOPs-matched comparison (Snell et al. 2024, section 7): a small policy with search against a larger
// policy without, at equal inference FLOPs per problem, per level.
//
// Usage: node tools/report/flops-matched.mjs SMALL.json LARGE.json [--search compute-optimal]
//   SMALL.json, LARGE.json: rows written by `thinktree eval --json` ({strategy, budget, level, n,
//   correct, accuracy, flops, tokens}; flops summed over the level's problems).
// For every large-model row (greedy, majority at each budget) and level, the small model's search is
// read at the largest budget whose FLOPs per problem do not exceed the large row's, so the search never
// gets more compute than the model it is compared with. Prints a Markdown table.

import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const searchAt = args.indexOf('--search');
const searchName = searchAt >= 0 ? args[searchAt + 1] : 'compute-optimal';
const files = args.filter((a, i) => !a.startsWith('--') && (searchAt < 0 || i !== searchAt + 1));
if (files.length !== 2) {
  console.error('Usage: node tools/report/flops-matched.mjs SMALL.json LARGE.json [--search STRATEGY]');
  process.exit(2);
}
const read = (f) => {
  const rows = JSON.parse(readFileSync(f, 'utf8'));
  if (!Array.isArray(rows)) throw new Error(`${f}: expected a JSON array of eval rows`);
  return rows.map((r) => ({ ...r, perProblem: r.flops / r.n }));
};
const [small, large] = files.map(read);
const levels = [...new Set(large.map((r) => r.level))].sort((a, b) => a - b);
const pct = (x) => `${(100 * x).toFixed(0)}%`;
const gf = (x) => `${(x / 1e9).toFixed(1)}`;

console.log(`| level | large model | large acc. | GFLOP/problem | small + ${searchName}: budget | acc. | GFLOP/problem | search − large |`);
console.log('|--:|:--|--:|--:|--:|--:|--:|--:|');
for (const level of levels) {
  const mine = small.filter((r) => r.level === level && r.strategy === searchName).sort((a, b) => a.perProblem - b.perProblem);
  for (const big of large.filter((r) => r.level === level && (r.strategy === 'greedy' || r.strategy === 'majority'))) {
    const label = big.strategy === 'greedy' ? 'greedy' : `majority N=${big.budget}`;
    const fit = mine.filter((r) => r.perProblem <= big.perProblem).at(-1);
    if (fit === undefined) {
      console.log(`| ${level} | ${label} | ${pct(big.accuracy)} | ${gf(big.perProblem)} | (every budget costs more) | | | |`);
      continue;
    }
    const diff = 100 * (fit.accuracy - big.accuracy);
    console.log(`| ${level} | ${label} | ${pct(big.accuracy)} | ${gf(big.perProblem)} | ${fit.budget} | ${pct(fit.accuracy)} | ` +
      `${gf(fit.perProblem)} | ${diff >= 0 ? '+' : ''}${diff.toFixed(0)} pts |`);
  }
}
