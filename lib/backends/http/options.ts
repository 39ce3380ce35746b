/** The RemoteBackend's options, and their checks. */
import type { BackendModelInfo } from '../types.js';
import { OptionError } from '../../errors.js';
import type { PoolingTask } from '../../protocol/pooling.js';
import type { PrmTextLayout } from './layout.js';

export interface RemoteBackendOptions {
  /** The policy server: `http://host:8000` (a trailing `/v1` is dropped). */
  baseUrl: string;
  /** The policy's served model name. @default the first model the server lists */
  model?: string;
  /**
   * The PRM server, when it is not the policy server. A PRM is used when this or `prmModel` is given (or
   * `findPrm` finds one). @default baseUrl
   */
  prmBaseUrl?: string;
  /** The PRM's served model name. @default the first model the PRM server lists */
  prmModel?: string;
  /**
   * With neither prmBaseUrl nor prmModel: take the policy server's second base model (one with no
   * `parent`) as the PRM, as `thinktree serve --model P --prm R` lists them. @default false
   */
  findPrm?: boolean;
  /** Bearer token for both servers (vLLM's `--api-key`). */
  apiKey?: string;
  /** Bearer token for the PRM server. @default apiKey */
  prmApiKey?: string;
  /** Most milliseconds one HTTP attempt may take. @default 120000 */
  timeoutMs?: number;
  /** Retries of a request answered 429 / 503 or whose connection was refused or reset. @default 3 */
  retries?: number;
  /** First retry backoff in ms (exponential, full jitter; a Retry-After header wins). @default 250 */
  backoffMs?: number;
  /** Most requests in flight at once, to each server. @default 16 */
  concurrency?: number;
  /**
   * Send the nodes of one generate call as one request with a prompt array (vLLM and SGLang accept
   * one), up to `maxPromptsPerRequest` each, instead of one request per node. A request carries one
   * seed for all its prompts, so identical prompts (siblings before their first step) go in different
   * requests, and prompts sharing a request share their sampler's seed. @default false
   */
  promptArrays?: boolean;
  /** @default 64 */
  maxPromptsPerRequest?: number;
  /**
   * Keep each node as token ids and resubmit them (vLLM's `return_token_ids`), so the server continues
   * from exactly the tokens it generated: a text resubmitted is tokenized afresh, and a step's end can
   * tokenize differently from the tokens that wrote it (e.g. "\n\n" as one token where the model wrote
   * two). true: the server must return `token_ids` and `prompt_token_ids`; 'auto': ask for them and use
   * them when they come, text otherwise (a server that refuses the field with a 400 naming it is asked
   * again without it, and not asked again); false: always text. A node given appended text (a revision
   * prompt) goes back to text. @default 'auto'
   */
  tokenIds?: boolean | 'auto';
  /** Most texts in one PRM request. @default 64 */
  maxPrmInputsPerRequest?: number;
  /**
   * The policy's prompt for a question. @default the chat template of `policyTokenizer` with the question
   * as the user turn, or ChatML (Qwen's format, the shipped demo models') without one
   */
  formatPrompt?: (question: string) => string;
  /** A local checkpoint or tokenizer folder whose tokenizer_config.json holds the policy's chat template. */
  policyTokenizer?: string;
  /** A local folder whose chat template lays out the PRM's input. @default ChatML */
  prmTokenizer?: string;
  /** How the PRM's input is laid out. @default 'qwen2.5-math-prm' */
  prmLayout?: 'qwen2.5-math-prm' | 'math-shepherd' | PrmTextLayout;
  /**
   * 'pooling': per-step rewards from `/pooling` (a PRM under vLLM's STEP pooler). 'classify': a sequence
   * reward from `/classify` for the whole solution so far (an outcome reward model: use it with
   * best-of-n, which scores finished candidates). @default 'pooling'
   */
  prmEndpoint?: 'pooling' | 'classify';
  /** The `task` field of pooling requests; null sends none (vLLM before 0.11). @default 'token_classify' */
  prmTask?: PoolingTask | null;
  /** The class of a `/classify` distribution that is the reward. @default 1 with two classes, else 0 */
  outcomeClass?: number;
  /** vLLM's skip_special_tokens for generated text. @default true */
  skipSpecialTokens?: boolean;
  /**
   * Parameter counts and widths for FLOPs estimates (servers do not report them), and model ids.
   * @default params parsed from the model names ("…-1.5B-…" → 1.5e9), else 0; ids from /v1/models
   */
  modelInfo?: Partial<BackendModelInfo>;
}

/** "Qwen2.5-Math-1.5B-Instruct" → 1.5e9; undefined when the name states no size. */
export function paramsFromName(name: string): number | undefined {
  const m = /(?:^|[^a-z0-9.])(\d+(?:\.\d+)?)([bm])(?:$|[^a-z0-9])/iu.exec(name);
  if (!m) return undefined;
  return Number(m[1]) * (m[2]!.toLowerCase() === 'b' ? 1e9 : 1e6);
}

export function positiveInt(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1) throw new OptionError(`Expected \`${name}\` to be a positive integer, got ${v}`);
  return v;
}

export const OPTION_KEYS = new Set<string>([
  'baseUrl', 'model', 'prmBaseUrl', 'prmModel', 'findPrm', 'apiKey', 'prmApiKey', 'timeoutMs', 'retries', 'backoffMs',
  'concurrency', 'promptArrays', 'maxPromptsPerRequest', 'tokenIds', 'maxPrmInputsPerRequest', 'formatPrompt', 'policyTokenizer',
  'prmTokenizer', 'prmLayout', 'prmEndpoint', 'prmTask', 'outcomeClass', 'skipSpecialTokens', 'modelInfo',
] satisfies (keyof RemoteBackendOptions)[]);

