/**
 * `thinktree tpo pairs` and `thinktree tpo eval`: the data side of Thought Preference Optimization
 * (Wu et al. 2024). `pairs` samples K thought-then-response outputs per prompt, judges the responses
 * alone and writes best-vs-worst preference pairs for a DPO trainer (TRL's DPOTrainer layout;
 * tools/train/dpo.py); `eval` measures a policy with the thought prompt and answering directly.
 * docs/tpo.md describes the loop and a run on the shipped policy.
 */
import { writeFile } from 'node:fs/promises';
import { loadPrompts, type TpoPrompt } from '../../tpo/prompts-file.js';
import { makePairs } from '../../tpo/make-pairs.js';
import { pairsJsonl } from '../../tpo/records.js';
import type { PairsSummary } from '../../tpo/summary.js';
import { evaluateThoughts, type EvaluateResult, type TpoEvalMode } from '../../tpo/evaluate.js';
import { didYouMean, intFlag, numberFlag, parseCommandLine, str, UsageError, withUsage, type CliIo } from '../flags.js';
import { stderrProgress } from '../progress.js';
import { checkWritableFile } from '../output-paths.js';
import { openTpo, parseTpoFlags, TPO_FLAGS, tpoFlagsHelp } from '../tpo-flags.js';
import type { Command } from './types.js';

const HELP = `Usage: thinktree tpo pairs --data PROMPTS.jsonl --out PAIRS.jsonl [options]
       thinktree tpo eval  --data PROMPTS.jsonl [--out RESULT.json] [options]

Thought Preference Optimization (Wu et al. 2024, "Thinking LLMs"): the model is asked to think, then
respond after a marker; only the response is judged.

pairs  samples K outputs per prompt, splits each at the marker (outputs without exactly one marker,
       with an empty response or cut at --max-tokens are dropped and counted), judges the responses, and
       writes the best against the worst of each prompt (thoughts included) in the layout TRL's
       DPOTrainer reads, plus a summary. Train on them with tools/train/dpo.py.
eval   answers each prompt once (greedy by default) with the thought prompt and/or directly (no thought
       prompt; --direct-prefix starts the answer), judges the responses, and prints per level the mean
       score (the accuracy with --judge checker), valid outputs and thought and response lengths.

Options:
${tpoFlagsHelp(25)}
pairs:
  --out FILE             the pairs file (JSONL)
  --k K                  samples per prompt (default 8)
  --length-penalty R     the paper's length control: rank by z(score) - R * z(response length) within
                         each prompt's samples (default 0, off)
  --summary FILE         also write the summary as JSON
eval:
  --mode M               thought | direct | both (default both)
  --out FILE             write the rows and per-level summaries as JSON
  -h, --help             show this help
`;

const FLAGS = {
  ...TPO_FLAGS,
  out: { type: 'string' },
  k: { type: 'string' },
  'length-penalty': { type: 'string' },
  summary: { type: 'string' },
  mode: { type: 'string' },
} as const;

const SUBCOMMANDS = ['pairs', 'eval'] as const;

/** The first N prompts, or the first N of each level when the prompts have levels. */
function limitPrompts(prompts: TpoPrompt[], limit: number | undefined): TpoPrompt[] {
  if (limit === undefined) return prompts;
  if (prompts.every((p) => p.level === undefined)) return prompts.slice(0, limit);
  const taken = new Map<number | undefined, number>();
  return prompts.filter((p) => {
    const k = taken.get(p.level) ?? 0;
    taken.set(p.level, k + 1);
    return k < limit;
  });
}

const fmt = (x: number, d = 1) => x.toFixed(d);

/** The summary as a few lines of text. */
export function summaryText(s: PairsSummary): string {
  const invalid = Object.entries(s.invalidSamples).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  return [
    `prompts ${s.prompts}, samples ${s.samples}, valid ${s.validSamples} (dropped: ${invalid})`,
    `pairs ${s.pairs}; prompts without a pair: ${s.droppedPrompts.allEqual} all-equal, ${s.droppedPrompts.tooFew} under two valid samples`,
    `mean judge score ${fmt(s.meanScore, 3)}; pair margin mean ${fmt(s.scoreMargin.mean, 3)} (min ${fmt(s.scoreMargin.min, 3)}, max ${fmt(s.scoreMargin.max, 3)})`,
    `lengths (chars, mean): thought ${fmt(s.thoughtChars.mean)}, response ${fmt(s.responseChars.mean)}; ` +
      `chosen thought/response ${fmt(s.chosenThoughtChars.mean)}/${fmt(s.chosenResponseChars.mean)}, rejected ${fmt(s.rejectedThoughtChars.mean)}/${fmt(s.rejectedResponseChars.mean)}`,
  ].join('\n');
}

/** The per-level table of one evaluation. */
export function evalTable(r: EvaluateResult): string {
  const head = `mode ${r.mode}\n| level | problems | valid | mean score | thought chars | response chars | tokens |\n|---|---|---|---|---|---|---|`;
  const row = (l: EvaluateResult['overall'], name: string) =>
    `| ${name} | ${l.problems} | ${l.valid} | ${fmt(l.meanScore, 3)} | ${fmt(l.thoughtChars)} | ${fmt(l.responseChars)} | ${fmt(l.tokens)} |`;
  return [head, ...r.levels.map((l) => row(l, l.level === null ? '-' : String(l.level))), row(r.overall, 'all')].join('\n');
}

async function runTpo(argv: string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCommandLine(argv, FLAGS, { positionals: true });
  if (v.help) {
    io.stdout(HELP);
    return 0;
  }
  const sub = positionals[0];
  if (sub === undefined) throw new UsageError(`Expected a subcommand: ${SUBCOMMANDS.join(' or ')}`);
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) throw new UsageError(`Unknown subcommand '${sub}'${didYouMean(sub, SUBCOMMANDS)}`);
  if (positionals.length > 1) throw new UsageError(`Unexpected argument '${positionals[1]}'`);
  const pairs = sub === 'pairs';
  for (const [flag, only] of [['k', 'pairs'], ['length-penalty', 'pairs'], ['summary', 'pairs'], ['mode', 'eval']] as const) {
    if (v[flag] !== undefined && only !== sub) throw new UsageError(`--${flag} is an option of tpo ${only}`);
  }
  const common = parseTpoFlags(v, pairs ? { temperature: 0.8, topP: 0.95 } : { temperature: 0, topP: 1 });
  const out = str(v, 'out');
  if (pairs && out === undefined) throw new UsageError('tpo pairs needs --out FILE');
  if (out !== undefined) checkWritableFile('out', out);
  const summaryFile = str(v, 'summary');
  if (summaryFile !== undefined) checkWritableFile('summary', summaryFile);
  const k = intFlag('k', str(v, 'k'), 8, 2, 1024);
  const lengthPenalty = numberFlag('length-penalty', str(v, 'length-penalty'), 0, 0, 1000);
  const modeFlag = str(v, 'mode') ?? 'both';
  if (!['thought', 'direct', 'both'].includes(modeFlag)) throw new UsageError(`--mode must be thought, direct or both, got '${modeFlag}'`);
  const prompts = limitPrompts(await loadPrompts(common.data), common.limit);

  const setup = await openTpo(common);
  try {
    io.stderr(`thinktree tpo ${sub}: ${prompts.length} prompts, policy ${setup.policyId}, judge ${setup.judge.name}, thought prompt ${common.thoughtPrompt.name} (marker ${JSON.stringify(common.thoughtPrompt.marker)})\n`);
    if (pairs) {
      const bar = stderrProgress(io, 'pairs');
      const result = await makePairs(prompts, {
        backend: setup.backend, judge: setup.judge, k, thoughtPrompt: common.thoughtPrompt, lengthPenalty, seed: common.seed,
        concurrency: common.concurrency, ...common.sampling, onProgress: (d, t) => bar.update(d / t, `${d}/${t} prompts`),
      }).finally(() => bar.finish());
      await writeFile(out!, pairsJsonl(result.pairs), 'utf8');
      if (summaryFile !== undefined) await writeFile(summaryFile, `${JSON.stringify(result.summary, null, 1)}\n`, 'utf8');
      io.stdout(`${summaryText(result.summary)}\nWrote ${result.pairs.length} pairs to ${out}\n`);
      return 0;
    }
    const modes: TpoEvalMode[] = modeFlag === 'both' ? ['thought', 'direct'] : [modeFlag as TpoEvalMode];
    const results: EvaluateResult[] = [];
    for (const mode of modes) {
      const bar = stderrProgress(io, mode);
      const r = await evaluateThoughts(prompts, {
        backend: setup.backend, judge: setup.judge, mode, thoughtPrompt: common.thoughtPrompt, seed: common.seed,
        concurrency: common.concurrency, ...common.sampling, onProgress: (d, t) => bar.update(d / t, `${d}/${t} prompts`),
      }).finally(() => bar.finish());
      results.push(r);
      io.stdout(`${evalTable(r)}\n\n`);
    }
    if (out !== undefined) {
      const doc = { policy: setup.policyId, judge: setup.judge.name, thoughtPrompt: common.thoughtPrompt, sampling: common.sampling, results };
      await writeFile(out, `${JSON.stringify(doc)}\n`, 'utf8');
      io.stdout(`Wrote ${out}\n`);
    }
    return 0;
  } finally {
    setup.dispose();
  }
}

export const tpoCommand: Command = {
  summary: 'Thought Preference Optimization: write thought/response preference pairs for DPO; measure thinking vs answering directly',
  run: (argv, io) => withUsage('tpo', HELP, io, () => runTpo(argv, io)),
};
