/**
 * The flags that point eval, calibrate, demo and search at inference servers instead of local models:
 * `--backend URL` (the policy server: vLLM, SGLang or `thinktree serve`), `--prm-backend URL`,
 * `--backend-model NAME`, `--prm-model NAME`, `--api-key KEY` (or THINKTREE_API_KEY), and
 * `--policy-tokenizer DIR` for the policy's chat template.
 */
import { RemoteBackend } from '../backends/remote.js';
import type { SearchBackend } from '../backends/types.js';
import { search } from '../search/search.js';
import type { SearchOptions, SearchResult } from '../search/types.js';
import { str, UsageError, type FlagValues } from './flags.js';

export const BACKEND_FLAGS = {
  backend: { type: 'string' },
  'prm-backend': { type: 'string' },
  'backend-model': { type: 'string' },
  'prm-model': { type: 'string' },
  'api-key': { type: 'string' },
  'policy-tokenizer': { type: 'string' },
} as const;

/** BACKEND_FLAGS' help lines, the descriptions starting at column `column`. */
export function backendFlagsHelp(column: number): string {
  const line = (flag: string, text: string) => `  ${flag}`.padEnd(column) + text;
  const indent = ' '.repeat(column);
  return [
    line('--backend URL', 'run the policy on this OpenAI-compatible server (vLLM, SGLang, thinktree serve)'),
    `${indent}instead of --model; see docs/scaling-out.md`,
    line('--prm-backend URL', "the PRM's server (vLLM /pooling; default: --backend's when --prm-model is given)"),
    line('--backend-model NAME', "the policy's served name (default: the server's first model)"),
    line('--prm-model NAME', 'the served PRM (a PRM is used with --prm-backend or --prm-model)'),
    line('--api-key KEY', 'bearer token for the servers (default: $THINKTREE_API_KEY)'),
    line('--policy-tokenizer DIR', "local folder with the policy's tokenizer_config.json (chat template; default ChatML)"),
  ].join('\n');
}

export interface RemoteFlags {
  url: string;
  prmUrl: string | undefined;
  model: string | undefined;
  prmModel: string | undefined;
  apiKey: string | undefined;
  policyTokenizer: string | undefined;
}

/**
 * The remote flags, or null without --backend. Local model flags (`--model`, `--prm`, `--threads`)
 * given with --backend are refused by name; `localFlags` lists the ones this command has.
 */
export function remoteFlags(values: FlagValues, localFlags: readonly string[], env: NodeJS.ProcessEnv = process.env): RemoteFlags | null {
  const url = str(values, 'backend');
  if (url === undefined) {
    for (const name of ['prm-backend', 'backend-model', 'prm-model', 'policy-tokenizer'] as const) {
      if (values[name] !== undefined) throw new UsageError(`--${name} needs --backend URL`);
    }
    return null;
  }
  for (const name of localFlags) {
    if (values[name] !== undefined) throw new UsageError(`--${name} is for local models; with --backend URL the models run on the server`);
  }
  const checkUrl = (flag: string, v: string | undefined) => {
    if (v !== undefined && !/^https?:\/\/[^\s/]+/u.test(v)) throw new UsageError(`--${flag} must be an http(s) URL, got '${v}'`);
  };
  checkUrl('backend', url);
  checkUrl('prm-backend', str(values, 'prm-backend'));
  return {
    url,
    prmUrl: str(values, 'prm-backend'),
    model: str(values, 'backend-model'),
    prmModel: str(values, 'prm-model'),
    apiKey: str(values, 'api-key') ?? (env.THINKTREE_API_KEY || undefined),
    policyTokenizer: str(values, 'policy-tokenizer'),
  };
}

/** Whether the remote flags name a PRM. */
export function remoteHasPrm(flags: RemoteFlags): boolean {
  return flags.prmUrl !== undefined || flags.prmModel !== undefined;
}

/** Searches over a RemoteBackend, shaped like Engine where the commands use it. */
export class RemoteSearcher {
  private constructor(readonly backend: RemoteBackend) {}

  /** `findPrm`: without PRM flags, take the server's second model as the PRM (thinktree serve's listing). */
  static async connect(flags: RemoteFlags, options: { findPrm?: boolean } = {}): Promise<RemoteSearcher> {
    const backend = await RemoteBackend.create({
      findPrm: options.findPrm === true && !remoteHasPrm(flags),
      baseUrl: flags.url,
      prmBaseUrl: flags.prmUrl,
      model: flags.model,
      prmModel: flags.prmModel,
      apiKey: flags.apiKey,
      policyTokenizer: flags.policyTokenizer,
    });
    return new RemoteSearcher(backend);
  }

  search(question: string, options: Omit<SearchOptions, 'backend'>): Promise<SearchResult> {
    return search(question, { ...options, backend: this.backend as SearchBackend });
  }

  /** Nodes still held after every search ended (a leak). */
  get liveNodes(): number {
    return this.backend.liveNodes;
  }

  dispose(): void {
    this.backend.dispose();
  }
}
