import type { KvStats } from '../native/addon-types.js';
import { loadModel, type LoadModelOptions, type Model } from '../models/model.js';
import { loadPrm, type Prm } from '../models/prm/prm.js';
import type { LoadPrmOptions } from '../models/prm/prepare-prm.js';
import { search } from '../search/search.js';
import type { SearchOptions, SearchResult } from '../search/types.js';
import { NativeBackend, type NativeBackendOptions } from '../backends/native.js';
import { OptionError } from '../errors.js';
import { checkOptionKeys, optionKeys } from '../util/options.js';
import { ScheduledBackend } from './scheduled-backend.js';
import { SearchScheduler, type SearchSchedulerStats } from './search-scheduler.js';

export type { SearchSchedulerStats } from './search-scheduler.js';

/** Every key Engine.load takes (the compiler checks the list against LoadEngineOptions). */
const LOAD_ENGINE_KEYS = optionKeys<LoadEngineOptions>()(['policy', 'prm', 'formatPrompt', 'maxQueuedSearches']);

export interface EngineKvStats {
  policy: KvStats;
  prm: KvStats | null;
}

export interface EngineOptions extends NativeBackendOptions {
  /**
   * Searches that may wait for KV pages at once (searches start in arrival order while the KV pools
   * have room); one more fails with QueueFullError. @default 4096
   */
  maxQueuedSearches?: number;
}

export interface LoadEngineOptions extends EngineOptions {
  /** Options for the policy model (threads, kvCacheBytes, ...). */
  policy?: LoadModelOptions;
  /** Options for the PRM (format, kvCacheBytes, ...). */
  prm?: LoadPrmOptions;
}

/**
 * A policy model and an optional PRM on one native engine. Searches started concurrently share its
 * batches: their step generations and step scorings go out together. They are admitted by KV capacity
 * (SearchScheduler): a search that cannot get pages waits for others to release theirs, or is
 * preempted and run again from the start; it fails with KvBudgetError only when it does not fit in the
 * pools alone.
 */
export class Engine {
  readonly backend: NativeBackend;
  private readonly scheduler: SearchScheduler;

  constructor(
    readonly policy: Model,
    readonly prm: Prm | undefined,
    options: EngineOptions = {},
  ) {
    const maxQueued = options.maxQueuedSearches ?? 4096;
    if (!Number.isInteger(maxQueued) || maxQueued < 0) {
      throw new OptionError(`Expected \`maxQueuedSearches\` to be a non-negative integer, got ${String(maxQueued)}`);
    }
    this.backend = new NativeBackend(policy, prm, options);
    this.scheduler = new SearchScheduler(maxQueued);
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

  /**
   * Runs one search; any number may run at once. Searches start in arrival order as the KV pools have
   * room; a preempted search runs again from the start (its `onProgress` starts over), with the same
   * result it would have had alone.
   */
  async search(question: string, options: Omit<SearchOptions, 'backend'>): Promise<SearchResult> {
    const user: unknown = options?.signal;
    if (user !== undefined && !(user instanceof AbortSignal)) {
      throw new OptionError(`Expected the search option \`signal\` to be an AbortSignal, got ${typeof user}`);
    }
    const arrival = this.scheduler.arrive();
    for (let attempt = 0; ; attempt++) {
      const preempt = new AbortController();
      const backend = new ScheduledBackend(this.backend, this.scheduler, arrival, preempt, user, attempt > 0);
      const signal = user === undefined ? preempt.signal : AbortSignal.any([user, preempt.signal]);
      try {
        return await search(question, { ...options, signal, backend });
      } catch (err) {
        if (!backend.preempted || user?.aborted) throw err;
      } finally {
        backend.finish();
      }
    }
  }

  /** Searches running and waiting, and how often one was preempted. */
  schedulerStats(): SearchSchedulerStats {
    return this.scheduler.stats();
  }

  /** KV pages in use and free, per model (every page is back once all searches have ended). */
  kvStats(): EngineKvStats {
    return { policy: this.policy.kvStats(), prm: this.prm ? this.prm.kvStats() : null };
  }

  dispose(): void {
    this.scheduler.dispose();
    this.prm?.dispose();
    this.policy.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.scheduler.dispose();
    await this.prm?.[Symbol.asyncDispose]();
    await this.policy[Symbol.asyncDispose]();
  }
}

export function loadEngine(policyDir: string, prmDir?: string, options?: LoadEngineOptions): Promise<Engine> {
  return Engine.load(policyDir, prmDir, options);
}
