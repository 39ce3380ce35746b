/**
 * `thinktree serve`: the native engine behind an OpenAI-compatible HTTP server in vLLM's shapes
 * (completions, chat completions with SSE, /pooling for the PRM, search strategies as models). Prints
 * the URL and runs until SIGINT or SIGTERM, then closes gracefully.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { serve, type ServeOptions } from '../../server/server.js';
import { intFlag, parseFlags, str, UsageError, withUsage, type CliIo } from '../flags.js';
import type { Command } from './types.js';

const HELP = `Usage: thinktree serve [options]

Serves the policy and the process reward model (PRM) over HTTP the way vLLM does, so any OpenAI client
(and thinktree's RemoteBackend) can use them: GET /v1/models, POST /v1/completions, POST
/v1/chat/completions (SSE with "stream": true), POST /pooling (PRM step scores), GET /health, GET
/metrics (Prometheus). A chat completion whose model names a search ("beam-16", "dvts-64",
"best-of-n-8", "compute-optimal-16", ...) runs that search and answers with the chosen solution.
Without --model it serves the shipped demo models (models/).

Options:
  --model DIR            policy model directory (default: the shipped models/policy)
  --prm DIR              PRM directory (default: the shipped models/prm without --model, none with it)
  --host HOST            address to listen on (default 127.0.0.1)
  --port N               port; 0 picks a free one (default 8000)
  --api-key KEY          require "Authorization: Bearer KEY" on /v1/* and /pooling
                         (default: $THINKTREE_API_KEY when set)
  --max-body-bytes N     largest request body, 413 beyond (default 1048576)
  --max-queue N          model requests admitted at once, 429 beyond (default 256)
  --threads N            kernel threads per model (default: all cores)
  --kv-cache-bytes N     KV pool bytes per model (default 268435456)
  --calibration FILE     calibration table for compute-optimal (default: the shipped one with the demo models)
  --no-prefix-cache      turn off automatic prefix caching of KV pages (on by default)
  -h, --help             show this help
`;

const FLAGS = {
  model: { type: 'string' },
  prm: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'api-key': { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'max-queue': { type: 'string' },
  threads: { type: 'string' },
  'kv-cache-bytes': { type: 'string' },
  calibration: { type: 'string' },
  'no-prefix-cache': { type: 'boolean' },
} as const;

/** Checks every flag (UsageError); loads nothing. */
export function parseServeFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): ServeOptions | 'help' {
  const v = parseFlags(argv, FLAGS);
  if (v.help) return 'help';
  const o: ServeOptions = {
    host: str(v, 'host') ?? '127.0.0.1',
    port: intFlag('port', str(v, 'port'), 8000, 0, 65535),
    maxBodyBytes: intFlag('max-body-bytes', str(v, 'max-body-bytes'), 1 << 20, 1, 2 ** 31),
    maxQueue: intFlag('max-queue', str(v, 'max-queue'), 256, 1, 1 << 20),
  };
  const model = str(v, 'model');
  const prm = str(v, 'prm');
  for (const [flag, dir] of [['model', model], ['prm', prm]] as const) {
    if (dir !== undefined && !existsSync(path.join(dir, 'config.json'))) throw new UsageError(`--${flag} ${dir}: no config.json there`);
  }
  if (model !== undefined) o.model = model;
  if (prm !== undefined) o.prm = prm;
  const key = str(v, 'api-key') ?? (env.THINKTREE_API_KEY === '' ? undefined : env.THINKTREE_API_KEY);
  if (key !== undefined) o.apiKey = key;
  if (v.threads !== undefined) o.threads = intFlag('threads', str(v, 'threads'), 1, 1, 1024);
  if (v['kv-cache-bytes'] !== undefined) o.kvCacheBytes = intFlag('kv-cache-bytes', str(v, 'kv-cache-bytes'), 1, 1);
  if (v['no-prefix-cache'] === true) o.prefixCache = false;
  const calibration = str(v, 'calibration');
  if (calibration !== undefined) {
    if (!existsSync(calibration)) throw new UsageError(`--calibration ${calibration} does not exist`);
    o.calibration = calibration;
  }
  return o;
}

const LOOPBACK = ['127.0.0.1', '::1', 'localhost'];

/** Resolves on the first SIGINT or SIGTERM. */
function signalled(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
}

/** Serves until `until` settles (by default SIGINT/SIGTERM), then closes; returns the exit code. */
export async function runServe(argv: string[], io: CliIo, until: () => Promise<unknown> = signalled): Promise<number> {
  const options = parseServeFlags(argv);
  if (options === 'help') {
    io.stdout(HELP);
    return 0;
  }
  const stop = until();
  const server = await serve(options);
  const info = server.engine.backend.info;
  io.stderr(`thinktree serve: policy ${info.policyId ?? '?'}, PRM ${info.prmId ?? '(none)'}${options.apiKey ? ', API key required' : ''}\n`);
  if (options.apiKey === undefined && !LOOPBACK.includes(server.host)) {
    io.stderr(`thinktree serve: warning: listening on ${server.host} without --api-key; anyone who can reach it can use it\n`);
  }
  io.stdout(`${server.url}\n`);
  await stop;
  io.stderr('thinktree serve: closing\n');
  await server.close();
  return 0;
}

export const serveCommand: Command = {
  summary: 'serve the models over HTTP in vLLM\'s shapes (completions, chat, /pooling, searches as models)',
  run: (argv, io) => withUsage('serve', HELP, io, () => runServe(argv, io)),
};
