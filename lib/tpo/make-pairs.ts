/**
 * makePairs: the data side of one TPO iteration (Wu et al. 2024, section 2.2). For every prompt: apply
 * the thought prompt, draw K outputs (one root, K forks), split each at the marker (invalid ones are
 * dropped and counted), score the responses alone with the judge, optionally length-control the
 * scores, and keep the best against the worst as a preference pair, thoughts included.
 */
import type { SearchBackend } from '../backends/types.js';
import { OptionError } from '../errors.js';
import { runPool } from '../eval/pool.js';
import { checkOptionKeys, optionKeys } from '../util/options.js';
import { judgeScores, type JudgeItem, type ResponseJudge } from './judge.js';
import { lengthControlled } from './length-control.js';
import { choosePair } from './pairs.js';
import { applyThoughtPrompt, checkThoughtPrompt, GENERIC_THOUGHT_PROMPT, type ThoughtPrompt } from './prompt.js';
import type { PairRecord } from './records.js';
import { sampleOutputs, type SampledOutput } from './sample.js';
import { splitThought, type SplitFailure } from './split.js';
import { summarize, type PairsSummary, type PromptOutcome } from './summary.js';
import type { TpoPrompt } from './prompts-file.js';

export interface TpoSampling {
  /** @default 0.8 (the paper's) */
  temperature?: number;
  /** @default 0.95 (the paper's) */
  topP?: number;
  /** 0 disables. @default 0 */
  topK?: number;
  /** Most tokens of one output, thought and response together. @default 1024 */
  maxTokens?: number;
}

export interface MakePairsOptions extends TpoSampling {
  /** Where the policy runs: a NativeBackend (Engine.backend) or a RemoteBackend. */
  backend: SearchBackend;
  /** Scores responses (never thoughts). */
  judge: ResponseJudge;
  /** Samples per prompt. @default 8 */
  k?: number;
  /** @default GENERIC_THOUGHT_PROMPT */
  thoughtPrompt?: ThoughtPrompt;
  /** ρ of the length control (0 = off). @default 0 */
  lengthPenalty?: number;
  /** Prompt i's root seed is seed + i. @default 0 */
  seed?: number;
  /** Prompts in flight at once (their K samples share native batches). @default 16 */
  concurrency?: number;
  /** Called after each prompt. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface MakePairsResult {
  pairs: PairRecord[];
  summary: PairsSummary;
}

export const MAKE_PAIRS_OPTION_KEYS = optionKeys<MakePairsOptions>()([
  'backend', 'judge', 'k', 'thoughtPrompt', 'lengthPenalty', 'seed', 'concurrency', 'onProgress', 'signal',
  'temperature', 'topP', 'topK', 'maxTokens',
]);

function checkInt(name: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new OptionError(`Expected \`${name}\` to be an integer in [${lo}, ${hi}], got ${v}`);
}

/** The sampling settings with defaults, checked. */
export function resolveSampling(o: TpoSampling): Required<TpoSampling> {
  const s = { temperature: o.temperature ?? 0.8, topP: o.topP ?? 0.95, topK: o.topK ?? 0, maxTokens: o.maxTokens ?? 1024 };
  if (!Number.isFinite(s.temperature) || s.temperature < 0) throw new OptionError(`Expected \`temperature\` ≥ 0, got ${s.temperature}`);
  if (!(s.topP > 0 && s.topP <= 1)) throw new OptionError(`Expected \`topP\` in (0, 1], got ${s.topP}`);
  checkInt('topK', s.topK, 0, 2 ** 31 - 1);
  checkInt('maxTokens', s.maxTokens, 1, 2 ** 31 - 1);
  return s;
}

interface Split {
  output: SampledOutput;
  thought: string;
  response: string;
}

/** One prompt: sample, split, judge, pair. */
async function onePrompt(
  prompt: TpoPrompt,
  seed: number,
  o: { backend: SearchBackend; judge: ResponseJudge; k: number; thoughtPrompt: ThoughtPrompt; lengthPenalty: number; sampling: Required<TpoSampling> },
  signal: AbortSignal,
): Promise<{ outcome: PromptOutcome; pair: PairRecord | null }> {
  const userTurn = applyThoughtPrompt(o.thoughtPrompt, prompt.instruction);
  const outputs = await sampleOutputs(o.backend, { userTurn, count: o.k, seed }, o.sampling, signal);
  const invalid: Partial<Record<SplitFailure, number>> = {};
  const valid: Split[] = [];
  for (const output of outputs) {
    const s = splitThought(output.text, o.thoughtPrompt.marker, output.finish === 'length');
    if (s.ok) valid.push({ output, thought: s.thought, response: s.response });
    else invalid[s.reason] = (invalid[s.reason] ?? 0) + 1;
  }
  const items: JudgeItem[] = valid.map((v) => ({ instruction: prompt.instruction, response: v.response, reference: prompt.reference }));
  const scores = await judgeScores(o.judge, items, signal);
  const responseChars = valid.map((v) => v.response.length);
  const ranked = lengthControlled(scores, responseChars, o.lengthPenalty);
  const choice = choosePair(ranked);
  const outcome: PromptOutcome = {
    samples: outputs.length,
    invalid,
    thoughtChars: valid.map((v) => v.thought.length),
    responseChars,
    scores,
    pair: choice.ok ? {
      scoreMargin: scores[choice.chosen]! - scores[choice.rejected]!,
      rankedMargin: ranked[choice.chosen]! - ranked[choice.rejected]!,
      chosenResponseChars: responseChars[choice.chosen]!,
      rejectedResponseChars: responseChars[choice.rejected]!,
      chosenThoughtChars: valid[choice.chosen]!.thought.length,
      rejectedThoughtChars: valid[choice.rejected]!.thought.length,
    } : choice.reason,
  };
  if (!choice.ok) return { outcome, pair: null };
  const c = valid[choice.chosen]!, r = valid[choice.rejected]!;
  const pair: PairRecord = {
    prompt: [{ role: 'user', content: userTurn }],
    chosen: [{ role: 'assistant', content: c.output.text }],
    rejected: [{ role: 'assistant', content: r.output.text }],
    score_chosen: scores[choice.chosen]!,
    score_rejected: scores[choice.rejected]!,
    ranked_chosen: ranked[choice.chosen]!,
    ranked_rejected: ranked[choice.rejected]!,
    thought_chosen: c.thought,
    thought_rejected: r.thought,
    response_chosen: c.response,
    response_rejected: r.response,
    instruction: prompt.instruction,
    id: prompt.id,
    ...(prompt.level === undefined ? {} : { level: prompt.level }),
  };
  return { outcome, pair };
}

/** Preference pairs for `prompts` (in prompt order) and the run's summary. */
export async function makePairs(prompts: readonly TpoPrompt[], options: MakePairsOptions): Promise<MakePairsResult> {
  checkOptionKeys(options, MAKE_PAIRS_OPTION_KEYS, 'the makePairs() options');
  const { backend, judge } = options;
  if (backend === undefined || judge === undefined) throw new OptionError('makePairs() needs `backend` and `judge`');
  const k = options.k ?? 8;
  checkInt('k', k, 2, 1024);
  const thoughtPrompt = options.thoughtPrompt ?? GENERIC_THOUGHT_PROMPT;
  checkThoughtPrompt(thoughtPrompt);
  const lengthPenalty = options.lengthPenalty ?? 0;
  if (!Number.isFinite(lengthPenalty) || lengthPenalty < 0) throw new OptionError(`Expected \`lengthPenalty\` to be a finite number ≥ 0, got ${lengthPenalty}`);
  const seed = options.seed ?? 0;
  checkInt('seed', seed, 0, Number.MAX_SAFE_INTEGER - prompts.length);
  const concurrency = options.concurrency ?? 16;
  checkInt('concurrency', concurrency, 1, 4096);
  const sampling = resolveSampling(options);
  let done = 0;
  const results = await runPool(
    prompts.length,
    concurrency,
    async (i, signal) => {
      const r = await onePrompt(prompts[i]!, seed + i, { backend, judge, k, thoughtPrompt, lengthPenalty, sampling }, signal);
      options.onProgress?.(++done, prompts.length);
      return r;
    },
    options.signal,
  );
  return {
    pairs: results.flatMap((r) => (r.pair ? [r.pair] : [])),
    summary: summarize(results.map((r) => r.outcome)),
  };
}
