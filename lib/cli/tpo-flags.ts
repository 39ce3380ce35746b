/**
 * The flags `thinktree tpo pairs` and `thinktree tpo eval` share: where the policy runs (local --model
 * or --backend URL), the thought prompt (--thought-prompt, or --template with --marker), the judge
 * (--judge checker | prm | orm) and the sampling; and opening what they name.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { demoModels } from '../demo-models.js';
import { Engine } from '../engine/engine.js';
import type { SearchBackend } from '../backends/types.js';
import { RemoteBackend } from '../backends/remote.js';
import { loadRewardModel, type RewardModel } from '../models/orm/reward-model.js';
import { taskJudge } from '../tpo/judge-task.js';
import { backendPrmJudge, prmJudge } from '../tpo/judge-prm.js';
import { ormJudge } from '../tpo/judge-orm.js';
import type { ResponseJudge } from '../tpo/judge.js';
import { checkThoughtPrompt, THOUGHT_PROMPTS, type ThoughtPrompt } from '../tpo/prompt.js';
import type { TpoSampling } from '../tpo/make-pairs.js';
import { BACKEND_FLAGS, backendFlagsHelp, remoteFlags, remoteHasPrm, type RemoteFlags } from './backend-flags.js';
import { asUsage, didYouMean, intFlag, numberFlag, str, UsageError, type FlagValues } from './flags.js';

export const JUDGES = ['checker', 'prm', 'orm'] as const;
export type JudgeName = (typeof JUDGES)[number];

export const TPO_FLAGS = {
  model: { type: 'string' },
  data: { type: 'string' },
  judge: { type: 'string' },
  prm: { type: 'string' },
  orm: { type: 'string' },
  'orm-system': { type: 'string' },
  'thought-prompt': { type: 'string' },
  template: { type: 'string' },
  marker: { type: 'string' },
  'direct-prefix': { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'top-k': { type: 'string' },
  'max-tokens': { type: 'string' },
  seed: { type: 'string' },
  concurrency: { type: 'string' },
  limit: { type: 'string' },
  threads: { type: 'string' },
  ...BACKEND_FLAGS,
} as const;

export function tpoFlagsHelp(column: number): string {
  const line = (flag: string, text: string) => `  ${flag}`.padEnd(column) + text;
  return [
    line('--data FILE', 'prompts, JSONL (gzip allowed): `prompt` or `problem`, optional `answer`, `level`, `id`'),
    line('--model DIR', 'policy model directory (default: the shipped models/policy)'),
    backendFlagsHelp(column),
    line('--judge J', `${JUDGES.join(' | ')}: the task's answer checker against \`answer\` (default), the PRM`),
    line('', 'scoring the response as one step, or an outcome reward model'),
    line('--prm DIR', 'the PRM for --judge prm (default: the shipped models/prm)'),
    line('--orm DIR', 'the outcome reward model for --judge orm (Qwen2ForRewardModel, *ForSequenceClassification)'),
    line('--orm-system TEXT', "a system turn before the prompt in the ORM's conversation"),
    line('--thought-prompt P', `${Object.keys(THOUGHT_PROMPTS).join(' | ')} (default generic; answer-line without --model and --backend,`),
    line('', 'for the shipped policy, which follows no English instruction)'),
    line('--template TEXT', 'a thought prompt of your own: the user turn, with {instruction} once and \\n for a newline (needs --marker)'),
    line('--marker TEXT', 'the text between thought and response (overrides the named prompt\'s)'),
    line('--direct-prefix TEXT', "how a direct answer starts, for the no-thought baseline (answer-line: 'The answer is')"),
    line('--temperature T', 'sampling temperature (pairs: default 0.8; eval: default 0, greedy)'),
    line('--top-p P', 'nucleus sampling (pairs: default 0.95; eval: 1)'),
    line('--top-k K', 'top-k sampling, 0 = off (default 0)'),
    line('--max-tokens N', 'most tokens of one output (default 1024); an output cut there is dropped'),
    line('--seed S', 'prompt i samples with seed S + i (default 0)'),
    line('--concurrency C', 'prompts in flight at once, batched together (default 16)'),
    line('--limit N', 'only the first N prompts (with levels: of each level)'),
    line('--threads N', 'kernel threads (default: all cores)'),
  ].join('\n');
}

export interface TpoCommonFlags {
  data: string;
  model: string;
  remote: RemoteFlags | null;
  judge: JudgeName;
  prm: string;
  orm: string | undefined;
  ormSystem: string | undefined;
  thoughtPrompt: ThoughtPrompt;
  sampling: TpoSampling;
  seed: number;
  concurrency: number;
  limit: number | undefined;
  threads: number | undefined;
}

function thoughtPromptOf(v: FlagValues): ThoughtPrompt {
  const template = str(v, 'template');
  const marker = str(v, 'marker');
  const named = str(v, 'thought-prompt');
  const direct = v['direct-prefix'] === undefined ? undefined : String(v['direct-prefix']);
  if (template !== undefined && named !== undefined) throw new UsageError('give --thought-prompt or --template, not both');
  let prompt: ThoughtPrompt;
  if (template !== undefined) {
    if (marker === undefined) throw new UsageError('--template needs --marker (the text between the thought and the response)');
    prompt = { name: 'custom', template: template.replace(/\\n/g, '\n'), marker };
  } else {
    // The shipped policy follows no English instruction (docs/tpo.md): its own format is the default for it.
    const name = named ?? (v.model === undefined && v.backend === undefined ? 'answer-line' : 'generic');
    const known = THOUGHT_PROMPTS[name];
    if (known === undefined) throw new UsageError(`--thought-prompt must be one of ${Object.keys(THOUGHT_PROMPTS).join(', ')}, got '${name}'${didYouMean(name, Object.keys(THOUGHT_PROMPTS))}`);
    prompt = { ...known, ...(marker === undefined ? {} : { marker }) };
  }
  if (direct !== undefined) prompt = { ...prompt, directPrefix: direct };
  asUsage(() => checkThoughtPrompt(prompt));
  return prompt;
}

/** The shared flags, checked; `defaults` are the sampling defaults of the subcommand. */
export function parseTpoFlags(v: FlagValues, defaults: { temperature: number; topP: number }): TpoCommonFlags {
  const data = str(v, 'data');
  if (data === undefined) throw new UsageError('--data FILE is required');
  if (!existsSync(data)) throw new UsageError(`--data ${data}: no such file`);
  const judge = str(v, 'judge') ?? 'checker';
  if (!(JUDGES as readonly string[]).includes(judge)) throw new UsageError(`--judge must be one of ${JUDGES.join(', ')}, got '${judge}'${didYouMean(judge, JUDGES)}`);
  const remote = remoteFlags(v, ['model', 'prm', 'threads']);
  if (judge === 'prm' && remote !== null && !remoteHasPrm(remote)) throw new UsageError('--judge prm with --backend needs --prm-model NAME or --prm-backend URL');
  const orm = str(v, 'orm');
  if (judge === 'orm' && orm === undefined) throw new UsageError('--judge orm needs --orm DIR');
  if (judge !== 'orm' && orm !== undefined) throw new UsageError('--orm is for --judge orm');
  for (const [flag, dir] of [['model', remote === null ? (str(v, 'model') ?? demoModels.policy) : undefined], ['orm', orm], ['prm', judge === 'prm' && remote === null ? (str(v, 'prm') ?? demoModels.prm) : undefined]] as const) {
    if (dir !== undefined && !existsSync(path.join(dir, 'config.json'))) throw new UsageError(`--${flag} ${dir}: no config.json there`);
  }
  return {
    data,
    model: path.resolve(str(v, 'model') ?? demoModels.policy),
    remote,
    judge: judge as JudgeName,
    prm: path.resolve(str(v, 'prm') ?? demoModels.prm),
    orm: orm === undefined ? undefined : path.resolve(orm),
    ormSystem: str(v, 'orm-system'),
    thoughtPrompt: thoughtPromptOf(v),
    sampling: {
      temperature: numberFlag('temperature', str(v, 'temperature'), defaults.temperature, 0, 100),
      topP: numberFlag('top-p', str(v, 'top-p'), defaults.topP, Number.MIN_VALUE, 1),
      topK: intFlag('top-k', str(v, 'top-k'), 0, 0),
      maxTokens: intFlag('max-tokens', str(v, 'max-tokens'), 1024, 1),
    },
    seed: intFlag('seed', str(v, 'seed'), 0, 0),
    concurrency: intFlag('concurrency', str(v, 'concurrency'), 16, 1, 4096),
    limit: v.limit === undefined ? undefined : intFlag('limit', str(v, 'limit'), 1),
    threads: v.threads === undefined ? undefined : intFlag('threads', str(v, 'threads'), 1, 1, 1024),
  };
}

/** What a TPO command runs on: the backend, the judge, and how to let go of both. */
export interface TpoSetup {
  backend: SearchBackend;
  judge: ResponseJudge;
  policyId: string;
  dispose(): void;
}

export async function openTpo(f: TpoCommonFlags): Promise<TpoSetup> {
  const threads = f.threads === undefined ? {} : { threads: f.threads };
  let orm: RewardModel | undefined;
  const closers: (() => void)[] = [];
  try {
    if (f.judge === 'orm') {
      orm = await loadRewardModel(f.orm!, { ...threads, ...(f.ormSystem === undefined ? {} : { systemPrompt: f.ormSystem }) });
      closers.push(() => orm!.dispose());
    }
    if (f.remote !== null) {
      const backend = await RemoteBackend.create({
        baseUrl: f.remote.url, prmBaseUrl: f.remote.prmUrl, model: f.remote.model, prmModel: f.remote.prmModel,
        apiKey: f.remote.apiKey, policyTokenizer: f.remote.policyTokenizer,
      });
      closers.push(() => backend.dispose());
      const judge = f.judge === 'orm' ? ormJudge(orm!, `ORM ${f.orm}`) : f.judge === 'prm' ? backendPrmJudge(backend, 'PRM (server)') : taskJudge();
      return { backend, judge, policyId: backend.info.policyId ?? f.remote.url, dispose: () => closers.forEach((c) => c()) };
    }
    const engine = await Engine.load(f.model, f.judge === 'prm' ? f.prm : undefined, { policy: threads, prm: threads });
    closers.push(() => engine.dispose());
    const judge = f.judge === 'orm' ? ormJudge(orm!, `ORM ${f.orm}`) : f.judge === 'prm' ? prmJudge(engine.prm!, `PRM ${f.prm}`) : taskJudge();
    return { backend: engine.backend, judge, policyId: engine.backend.info.policyId ?? f.model, dispose: () => closers.forEach((c) => c()) };
  } catch (err) {
    closers.forEach((c) => c());
    throw err;
  }
}
