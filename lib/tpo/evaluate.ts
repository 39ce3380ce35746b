/**
 * Measuring a policy the way the paper does: each held-out instruction answered once (greedy by
 * default) with the thought prompt, the response (after the marker) judged; and the baseline, the same
 * model answering directly with no thought prompt. Reports per level the mean judge score (accuracy
 * for the task checker), how many outputs had a valid split, and the thought and response lengths.
 */
import type { SearchBackend } from '../backends/types.js';
import { OptionError } from '../errors.js';
import { runPool } from '../eval/pool.js';
import { checkOptionKeys, optionKeys } from '../util/options.js';
import { judgeScores, type ResponseJudge } from './judge.js';
import { resolveSampling, type TpoSampling } from './make-pairs.js';
import { applyThoughtPrompt, checkThoughtPrompt, GENERIC_THOUGHT_PROMPT, type ThoughtPrompt } from './prompt.js';
import type { TpoPrompt } from './prompts-file.js';
import { sampleOutputs } from './sample.js';
import { splitThought, type SplitFailure } from './split.js';

/** 'thought': with the thought prompt, judged after the marker. 'direct': the instruction alone. */
export type TpoEvalMode = 'thought' | 'direct';

export interface EvaluateOptions extends TpoSampling {
  backend: SearchBackend;
  judge: ResponseJudge;
  mode: TpoEvalMode;
  /** @default GENERIC_THOUGHT_PROMPT */
  thoughtPrompt?: ThoughtPrompt;
  /** Root seed of prompt i is seed + i (matters only when temperature > 0). @default 0 */
  seed?: number;
  /** @default 16 */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface EvalRow {
  id: string;
  level?: number;
  /** The response had a valid split (direct mode: it is non-empty and was not cut at the token limit). */
  valid: boolean;
  invalidReason?: SplitFailure;
  /** The judge's score; 0 for an invalid output. */
  score: number;
  thoughtChars: number;
  responseChars: number;
  tokens: number;
}

export interface LevelSummary {
  /** null: prompts without a level. */
  level: number | null;
  problems: number;
  valid: number;
  /** Mean score over all problems (invalid outputs count 0): accuracy with the task checker. */
  meanScore: number;
  /** Means over the valid outputs. */
  thoughtChars: number;
  responseChars: number;
  /** Mean tokens generated over all problems. */
  tokens: number;
}

export interface EvaluateResult {
  mode: TpoEvalMode;
  rows: EvalRow[];
  levels: LevelSummary[];
  overall: LevelSummary;
}

export const EVALUATE_OPTION_KEYS = optionKeys<EvaluateOptions>()([
  'backend', 'judge', 'mode', 'thoughtPrompt', 'seed', 'concurrency', 'onProgress', 'signal', 'temperature', 'topP', 'topK', 'maxTokens',
]);

function summaryOf(level: number | null, rows: readonly EvalRow[]): LevelSummary {
  const valid = rows.filter((r) => r.valid);
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    level,
    problems: rows.length,
    valid: valid.length,
    meanScore: mean(rows.map((r) => r.score)),
    thoughtChars: mean(valid.map((r) => r.thoughtChars)),
    responseChars: mean(valid.map((r) => r.responseChars)),
    tokens: mean(rows.map((r) => r.tokens)),
  };
}

/** One output per prompt, judged; rows in prompt order and the per-level summary. */
export async function evaluateThoughts(prompts: readonly TpoPrompt[], options: EvaluateOptions): Promise<EvaluateResult> {
  checkOptionKeys(options, EVALUATE_OPTION_KEYS, 'the evaluateThoughts() options');
  const { backend, judge, mode } = options;
  if (backend === undefined || judge === undefined) throw new OptionError('evaluateThoughts() needs `backend` and `judge`');
  if (mode !== 'thought' && mode !== 'direct') throw new OptionError(`Expected \`mode\` to be 'thought' or 'direct', got ${JSON.stringify(mode)}`);
  const thoughtPrompt = options.thoughtPrompt ?? GENERIC_THOUGHT_PROMPT;
  checkThoughtPrompt(thoughtPrompt);
  const sampling = resolveSampling({ temperature: 0, topP: 1, ...options });
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new OptionError(`Expected \`seed\` to be a non-negative integer, got ${seed}`);
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 4096) {
    throw new OptionError(`Expected \`concurrency\` to be an integer in [1, 4096], got ${concurrency}`);
  }
  let done = 0;
  const rows = await runPool(
    prompts.length,
    concurrency,
    async (i, signal): Promise<EvalRow> => {
      const p = prompts[i]!;
      const direct = mode === 'direct';
      const [out] = await sampleOutputs(
        backend,
        {
          userTurn: direct ? p.instruction : applyThoughtPrompt(thoughtPrompt, p.instruction),
          assistantPrefix: direct ? thoughtPrompt.directPrefix : undefined,
          count: 1,
          seed: seed + i,
        },
        sampling,
        signal,
      );
      const split = direct
        ? out!.finish === 'length'
          ? ({ ok: false, reason: 'truncated' } as const)
          : out!.text.trim() === ''
            ? ({ ok: false, reason: 'empty-response' } as const)
            : ({ ok: true, thought: '', response: out!.text.trim() } as const)
        : splitThought(out!.text, thoughtPrompt.marker, out!.finish === 'length');
      const base = { id: p.id, ...(p.level === undefined ? {} : { level: p.level }), tokens: out!.tokens };
      options.onProgress?.(++done, prompts.length);
      if (!split.ok) return { ...base, valid: false, invalidReason: split.reason, score: 0, thoughtChars: 0, responseChars: 0 };
      const [score] = await judgeScores(judge, [{ instruction: p.instruction, response: split.response, reference: p.reference }], signal);
      return { ...base, valid: true, score: score!, thoughtChars: split.thought.length, responseChars: split.response.length };
    },
    options.signal,
  );
  const levels = [...new Set(rows.map((r) => r.level ?? null))].sort((a, b) => (a ?? 0) - (b ?? 0));
  return {
    mode,
    rows,
    levels: levels.map((l) => summaryOf(l, rows.filter((r) => (r.level ?? null) === l))),
    overall: summaryOf(null, rows),
  };
}
