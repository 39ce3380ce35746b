#!/usr/bin/env node
// Where a step-level search loses the arithmetic problems it does not solve: runs beam search or DVTS
// on each problem (the seeds `thinktree eval` uses: problem i of the list gets seed S + i, so the solved
// counts match its rows), labels every node of the search tree with the exact checker, and sorts each
// unsolved problem into the first way it was lost:
//   no right sample: at some depth none of the samples drawn from the kept beams is right (the kept
//     right beams included), so no verifier could have saved it at this budget (policy coverage);
//   pruned:          right steps were drawn at some depth but the PRM kept only wrong ones (verifier);
//   not chosen:      a right solution finished, but the final vote picked another answer.
//
// With --veto KIND the PRM's reward of every wrong step whose error is of that kind is set to 0, so the
// search runs with a verifier that never misses those errors and is the PRM otherwise: what a better
// PRM could give. A step that only carries on a wrong value (a wrong running value, or an answer that
// differs from the problem's) is of the kind of the path's first wrong step, and a copy slip of the
// previous result when there is none.
//   operand:    a number or operation taken wrong from the problem or the previous step (wrong
//               operand, operation or running value; a skipped, repeated or extra step; an answer
//               before the last operation or different from the last result);
//   arithmetic: a false equation;
//   any:        every wrong step (the search's ceiling at this budget).
//
// Usage: node tools/report/search-failures.mjs --data FILE.jsonl[,FILE...] --model DIR --prm DIR
//          [--strategy beam|dvts|lookahead] [--budget 16] [--limit N] [--seed 0] [--veto operand|arithmetic|any]
//          [--aggregation last|min|prod|mean] [--threads N] [--concurrency 8]
// (--aggregation defaults to thinktree eval's.)
// Records need the arithmetic task's `structured` field. Prints a Markdown table per level.

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Engine, arithmetic, evaluation, mathTask, search } from '../../dist/index.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    model: { type: 'string' },
    prm: { type: 'string' },
    strategy: { type: 'string', default: 'beam' },
    budget: { type: 'string', default: '16' },
    limit: { type: 'string' },
    seed: { type: 'string', default: '0' },
    threads: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    veto: { type: 'string' },
    aggregation: { type: 'string', default: evaluation.EVAL_DEFAULTS.aggregation },
  },
});
if (!values.data || !values.model || !values.prm) {
  console.error('Usage: node tools/report/search-failures.mjs --data FILE.jsonl --model DIR --prm DIR [--strategy beam|dvts|lookahead] [--budget 16] [--limit N]');
  process.exit(2);
}
if (!['beam', 'dvts', 'lookahead'].includes(values.strategy)) {
  console.error(`--strategy: expected beam, dvts or lookahead (a step-level search), got ${values.strategy}`);
  process.exit(2);
}
const VETOED = {
  operand: ['wrong-operand', 'wrong-operation', 'wrong-running-value', 'skipped-step', 'repeated-step', 'extra-step', 'premature-answer', 'wrong-answer'],
  arithmetic: ['arithmetic'],
  any: null,
};
if (values.veto !== undefined && !(values.veto in VETOED)) {
  console.error(`--veto: expected ${Object.keys(VETOED).join(', ')}, got ${values.veto}`);
  process.exit(2);
}

// The first --limit records of each level, in file order, as `thinktree eval --limit` takes them.
const records = evaluation.firstPerLevel(
  (await Promise.all(values.data.split(',').map(async (file) => [file, await evaluation.readDataText(file)]))).flatMap(([file, text]) =>
    text.split('\n').flatMap((line, i) => {
      if (line.trim() === '') return [];
      try {
        return [arithmetic.parseRecord(line)];
      } catch (err) {
        throw new Error(`${file}:${i + 1}: ${err.message} (an arithmetic task record is needed)`);
      }
    }),
  ),
  values.limit === undefined ? Infinity : Number(values.limit),
);

const threads = Number(values.threads ?? availableParallelism());
const engine = await Engine.load(values.model, values.prm, { policy: { threads }, prm: { threads } });

/**
 * The engine's backend, with the PRM's reward of a step set to 0 where the checker finds the step wrong
 * in a vetoed way (see the header). It follows each node's solution text through forks and generations
 * to check it.
 */
function vetoing(backend, structured, reasons) {
  const texts = new Map();
  const extend = (nodes, added) => nodes.forEach((node, i) => texts.set(node, texts.get(node) + added[i]));
  return {
    info: backend.info,
    async createRoot(question, options) {
      const root = await backend.createRoot(question, options);
      texts.set(root.node, '');
      return root;
    },
    async fork(parents) {
      const children = await backend.fork(parents);
      children.forEach((child, i) => texts.set(child, texts.get(parents[i])));
      return children;
    },
    async release(nodes) {
      nodes.forEach((node) => texts.delete(node));
      return backend.release(nodes);
    },
    async generate(nodes, sampling, signal) {
      const steps = await backend.generate(nodes, sampling, signal);
      extend(nodes, steps.map((step) => step.text));
      return steps;
    },
    async appendText(nodes, added) {
      const tokens = await backend.appendText(nodes, added);
      extend(nodes, added);
      return tokens;
    },
    async score(nodes, steps, signal) {
      const scored = await backend.score(nodes, steps, signal);
      const rewards = scored.rewards.map((reward, i) => {
        const { steps: labels, firstError } = arithmetic.checkSolution(structured, texts.get(nodes[i]));
        const last = labels[labels.length - 1];
        if (last === undefined || last.correct) return reward;
        if (reasons === null) return 0;
        const own = last.reasons.filter((r) => r !== 'wrong-running-value' && r !== 'wrong-answer');
        const origin = own.length > 0 ? last.reasons : labels[firstError].reasons;
        return origin.some((r) => reasons.includes(r)) ? 0 : reward;
      });
      return { ...scored, rewards };
    },
  };
}

/** 'solved' or the first way the problem was lost (see the header). */
async function classify(record, seed) {
  const options = { strategy: values.strategy, n: Number(values.budget), seed, aggregation: values.aggregation };
  const result =
    values.veto === undefined
      ? await engine.search(record.problem, options)
      : await search(record.problem, { ...options, backend: vetoing(engine.backend, record.structured, VETOED[values.veto]) });
  if (evaluation.isCorrect(mathTask, result, record.answer)) return 'solved';
  if (result.candidates.some((c) => arithmetic.checkSolution(record.structured, c.text).solved)) return 'not chosen';
  const paths = evaluation.pathsOf(result.tree);
  // A lookahead rollout hangs under every candidate it valued, kept or not: only steps count as kept.
  const expanded = new Set(result.tree.filter((node) => node.kind === 'step').map((node) => node.parent));
  const right = (node) => {
    const check = arithmetic.checkSolution(record.structured, paths[node.id].join(''));
    return node.finish !== null && check.answer.found ? check.solved : check.allStepsCorrect;
  };
  const deepest = Math.max(...result.tree.map((node) => node.depth));
  for (let depth = 1; depth <= deepest; depth++) {
    const rightHere = result.tree.filter((node) => node.depth === depth && node.kind === 'step' && right(node));
    if (rightHere.length === 0) return 'no right sample';
    if (!rightHere.some((node) => expanded.has(node.id))) return 'pruned';
  }
  return 'no right sample';
}

const seed = Number(values.seed);
const outcomes = await evaluation.runPool(records.length, Number(values.concurrency), (i) => classify(records[i], seed + i));
engine.dispose();

const kinds = ['solved', 'not chosen', 'pruned', 'no right sample'];
const verifier = values.veto === undefined ? '' : `, PRM rewards of steps wrong by ${values.veto} set to 0`;
console.log(`${values.strategy} N=${values.budget}, ${values.aggregation} aggregation, ${records.length} problems${verifier}; problems lost, by the first way they were lost\n`);
console.log(`| level | n | ${kinds.join(' | ')} | solved + not chosen + pruned |`);
console.log(`|--:|--:|${kinds.map(() => '--:').join('|')}|--:|`);
for (const level of [...new Set(records.map((r) => r.level))].sort((a, b) => a - b)) {
  const mine = outcomes.filter((_, i) => records[i].level === level);
  const count = (k) => mine.filter((o) => o === k).length;
  console.log(`| ${level} | ${mine.length} | ${kinds.map(count).join(' | ')} | ${count('solved') + count('not chosen') + count('pruned')} |`);
}
