/** The options of `serve()`, each checked before anything is loaded. */
import type { Engine } from '../engine/engine.js';
import { OptionError } from '../errors.js';
import type { Task } from '../tasks/task.js';
import { checkOptionKeys, optionKeys } from '../util/options.js';

export interface ServeOptions {
  /** Policy model directory. @default the shipped demo policy (demoModels.policy) */
  model?: string;
  /**
   * PRM directory; null serves no PRM (then /pooling and PRM strategies are refused).
   * @default the shipped demo PRM when `model` is not given, none otherwise
   */
  prm?: string | null;
  /** An engine loaded by the caller, served instead of `model`/`prm`; close() leaves it loaded. */
  engine?: Engine;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 8000 */
  port?: number;
  /** When set, /v1/* and /pooling need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Largest request body; bigger ones get 413 and are not read further. @default 1 MiB */
  maxBodyBytes?: number;
  /** Model requests admitted at once (running or waiting); beyond it, 429 with Retry-After. @default 256 */
  maxQueue?: number;
  /** Kernel threads of each model. @default all cores */
  threads?: number;
  /** KV pool bytes of each model. @default 256 MiB */
  kvCacheBytes?: number;
  /**
   * Automatic prefix caching in both models' KV pools (a resubmitted prefix reuses its cached pages);
   * false turns it off, to compare. @default true
   */
  prefixCache?: boolean;
  /** Tokens per decode round of completions (new requests join between rounds). @default 16 */
  chunkTokens?: number;
  /** Served model ids. @default the directories' base names */
  servedModelName?: { policy?: string; prm?: string };
  /** compute-optimal's calibration table file. @default the shipped table with the demo models, none otherwise */
  calibration?: string;
  /** The task that extracts answers for search-as-model requests. @default the MATH task (boxed answers) */
  task?: Task;
  /** How long close() lets running requests finish before it aborts them. @default 5000 */
  closeGraceMs?: number;
}

export const SERVE_OPTION_KEYS = optionKeys<ServeOptions>()([
  'model',
  'prm',
  'engine',
  'host',
  'port',
  'apiKey',
  'maxBodyBytes',
  'maxQueue',
  'threads',
  'kvCacheBytes',
  'prefixCache',
  'chunkTokens',
  'servedModelName',
  'calibration',
  'task',
  'closeGraceMs',
]);

function int(name: string, v: number | undefined, lo: number, hi: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < lo || v > hi) throw new OptionError(`Expected \`${name}\` to be an integer in [${lo}, ${hi}], got ${String(v)}`);
  return v;
}

export interface ResolvedServeOptions {
  host: string;
  port: number;
  apiKey: string | undefined;
  maxBodyBytes: number;
  maxQueue: number;
  chunkTokens: number;
  closeGraceMs: number;
}

export function checkServeOptions(o: ServeOptions): ResolvedServeOptions {
  checkOptionKeys(o, SERVE_OPTION_KEYS, 'the serve() options');
  if (o.apiKey !== undefined && (typeof o.apiKey !== 'string' || o.apiKey === '')) throw new OptionError('Expected `apiKey` to be a non-empty string');
  if (o.engine !== undefined && (o.model !== undefined || o.prm !== undefined || o.prefixCache !== undefined)) {
    throw new OptionError('Give either `engine` or `model`/`prm`/`prefixCache`, not both');
  }
  if (o.prefixCache !== undefined && typeof o.prefixCache !== 'boolean') throw new OptionError('Expected `prefixCache` to be a boolean');
  return {
    host: o.host ?? '127.0.0.1',
    port: int('port', o.port, 0, 65535, 8000),
    apiKey: o.apiKey,
    maxBodyBytes: int('maxBodyBytes', o.maxBodyBytes, 1, 2 ** 31, 1 << 20),
    maxQueue: int('maxQueue', o.maxQueue, 1, 1 << 20, 256),
    chunkTokens: int('chunkTokens', o.chunkTokens, 1, 1 << 16, 16),
    closeGraceMs: int('closeGraceMs', o.closeGraceMs, 0, 3_600_000, 5000),
  };
}
