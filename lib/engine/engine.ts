import type { KvStats } from '../native/addon-types.js';
import { loadModel, type LoadModelOptions, type Model } from '../models/model.js';
import { loadPrm, type Prm } from '../models/prm/prm.js';
import type { LoadPrmOptions } from '../models/prm/prepare-prm.js';
import { search } from '../search/search.js';
import type { SearchOptions, SearchResult } from '../search/types.js';
import { NativeBackend, type NativeBackendOptions } from '../backends/native.js';
import { checkOptionKeys, optionKeys } from '../util/options.js';

/** Every key Engine.load takes (the compiler checks the list against LoadEngineOptions). */
const LOAD_ENGINE_KEYS = optionKeys<LoadEngineOptions>()(['policy', 'prm', 'formatPrompt']);

export interface EngineKvStats {
  policy: KvStats;
  prm: KvStats | null;
}

export interface LoadEngineOptions extends NativeBackendOptions {
  /** Options for the policy model (threads, kvCacheBytes, ...). */
  policy?: LoadModelOptions;
  /** Options for the PRM (format, kvCacheBytes, ...). */
  prm?: LoadPrmOptions;
}

/**
 * A policy model and an optional PRM on one native engine. Searches started concurrently share its
 * batches: their step generations and step scorings go out together.
 */
export class Engine {
  readonly backend: NativeBackend;

  constructor(
    readonly policy: Model,
    readonly prm: Prm | undefined,
    options: NativeBackendOptions = {},
  ) {
    this.backend = new NativeBackend(policy, prm, options);
  }

  /** Loads the policy from `policyDir` and, when given, the PRM from `prmDir`. */
  static async load(policyDir: string, prmDir?: string, options: LoadEngineOptions = {}): Promise<Engine> {
    checkOptionKeys(options, LOAD_ENGINE_KEYS, 'the loadEngine() options');
    const policy = await loadModel(policyDir, options.policy);
    let prm: Prm | undefined;
    try {
      if (prmDir !== undefined) prm = await loadPrm(prmDir, options.prm);
    } catch (err) {
      policy.dispose();
      throw err;
    }
    return new Engine(policy, prm, options);
  }

  /** Runs one search; any number may run at once. */
  search(question: string, options: Omit<SearchOptions, 'backend'>): Promise<SearchResult> {
    return search(question, { ...options, backend: this.backend });
  }

  /** KV pages in use and free, per model (every page is back once all searches have ended). */
  kvStats(): EngineKvStats {
    return { policy: this.policy.kvStats(), prm: this.prm ? this.prm.kvStats() : null };
  }

  dispose(): void {
    this.prm?.dispose();
    this.policy.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.prm?.[Symbol.asyncDispose]();
    await this.policy[Symbol.asyncDispose]();
  }
}

export function loadEngine(policyDir: string, prmDir?: string, options?: LoadEngineOptions): Promise<Engine> {
  return Engine.load(policyDir, prmDir, options);
}
