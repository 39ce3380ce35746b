/**
 * `serve()`: the native engine behind HTTP in vLLM's shapes. One node:http server; each request gets an
 * AbortController that fires when its client goes away or the server closes, so its sequences are
 * released; model requests take a slot of a bounded queue (429 with Retry-After beyond it).
 */
import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { demoModels } from '../demo-models.js';
import { Engine } from '../engine/engine.js';
import { KvBudgetError, OptionError } from '../errors.js';
import { loadCalibration } from '../eval/calibration-file.js';
import { EVAL_SEARCH_PARAMS } from '../eval/defaults.js';
import { checkCalibrationModels, type CalibrationTable } from '../search/calibration-table.js';
import { apiKeyCheck } from './auth.js';
import { chatCompletions } from './chat.js';
import { completions } from './completions.js';
import type { ServerContext } from './context.js';
import { HttpError } from './errors.js';
import type { Exchange } from './exchange.js';
import { Generator } from './generate.js';
import { parseJsonObject, readBody, sendError, sendJson, sendText } from './http.js';
import { Metrics } from './metrics.js';
import { listModels } from './models-list.js';
import { checkServeOptions, type ServeOptions } from './options.js';
import { pooling } from './pooling.js';
import { route, type Routes } from './router.js';

export type { ServeOptions } from './options.js';

export interface ServerHandle {
  /** `http://host:port` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly engine: Engine;
  /** Stops accepting, lets running requests finish (closeGraceMs), aborts the rest, releases every sequence, disposes models it loaded. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Context length from config.json's max_position_embeddings, else a conservative 2048. */
function contextOf(config: { maxPositionEmbeddings: number | undefined }): number {
  return config.maxPositionEmbeddings ?? 2048;
}

async function loadEngine(options: ServeOptions): Promise<{ engine: Engine; owned: boolean; demo: boolean }> {
  if (options.engine) return { engine: options.engine, owned: false, demo: false };
  const demo = options.model === undefined;
  const model = path.resolve(options.model ?? demoModels.policy);
  const prm = options.prm === undefined ? (demo ? demoModels.prm : null) : options.prm === null ? null : path.resolve(options.prm);
  const load = {
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.kvCacheBytes === undefined ? {} : { kvCacheBytes: options.kvCacheBytes }),
    ...(options.prefixCache === undefined ? {} : { prefixCache: options.prefixCache }),
  };
  const engine = await Engine.load(model, prm ?? undefined, { policy: load, prm: load });
  return { engine, owned: true, demo };
}

async function calibrationFor(options: ServeOptions, engine: Engine, demo: boolean): Promise<CalibrationTable | undefined> {
  const file = options.calibration ?? (demo && existsSync(demoModels.calibration) ? demoModels.calibration : undefined);
  if (file === undefined || !engine.prm) return undefined;
  const table = await loadCalibration(file);
  checkCalibrationModels(table, engine.backend.info);
  return table;
}

/** Starts the server; resolves once it listens. */
export async function serve(options: ServeOptions = {}): Promise<ServerHandle> {
  const o = checkServeOptions(options);
  const { engine, owned, demo } = await loadEngine(options);
  let calibration: CalibrationTable | undefined;
  try {
    calibration = await calibrationFor(options, engine, demo);
  } catch (err) {
    if (owned) engine.dispose();
    throw err;
  }
  const metrics = new Metrics();
  const ctx: ServerContext = {
    engine,
    generator: new Generator(engine.policy, {
      chunkTokens: o.chunkTokens,
      onTokens: (p, g) => {
        metrics.promptTokens += p;
        metrics.generatedTokens += g;
      },
    }),
    metrics,
    names: {
      policy: options.servedModelName?.policy ?? path.basename(dirOf(engine.policy.info.id)),
      prm: engine.prm ? (options.servedModelName?.prm ?? path.basename(dirOf(engine.prm.info.id))) : null,
    },
    policyContext: contextOf(engine.policy.config),
    prmContext: engine.prm ? contextOf(engine.prm.config) : 0,
    calibration,
    task: options.task,
    searchDefaults: demo ? { ...EVAL_SEARCH_PARAMS } : {},
    searches: { running: 0 },
  };
  const checkKey = apiKeyCheck(o.apiKey);
  let inFlight = 0;
  const running = new Set<{ controller: AbortController; done: Promise<void> }>();
  const closing = new AbortController();
  // One listener per request in flight (each request's own controller follows it): no fixed bound.
  setMaxListeners(0, closing.signal);

  const routes: Routes = {
    '/health': { GET: { auth: false, queued: false, body: false, handler: async () => ({ status: 200, text: '', contentType: 'text/plain' }) } },
    '/metrics': {
      GET: {
        auth: false,
        queued: false,
        body: false,
        handler: async () => ({ status: 200, text: renderMetrics(), contentType: 'text/plain; version=0.0.4; charset=utf-8' }),
      },
    },
    '/v1/models': { GET: { auth: true, queued: false, body: false, handler: async (ex) => listModels(ex.ctx) } },
    '/v1/completions': { POST: { auth: true, queued: true, body: true, handler: completions } },
    '/v1/chat/completions': { POST: { auth: true, queued: true, body: true, handler: chatCompletions } },
    '/pooling': { POST: { auth: true, queued: true, body: true, handler: pooling } },
  };

  const renderMetrics = (): string => {
    const kv = engine.kvStats();
    return metrics.render({
      queueLength: ctx.generator.pending,
      inFlight,
      searchesRunning: ctx.searches.running,
      kv,
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse, controller: AbortController): Promise<number> {
    const { route: r } = route(routes, req.method, req.url);
    if (r.auth) checkKey(req);
    if (r.queued && inFlight >= o.maxQueue) {
      metrics.rejectedQueueFull++;
      throw new HttpError(429, `The server is busy: ${inFlight} requests are queued (limit ${o.maxQueue}); retry later`, 'rate_limit_error', null, 'queue_full', {
        'retry-after': '1',
      });
    }
    if (r.queued) inFlight++;
    try {
      const body = r.body ? parseJsonObject(await readBody(req, o.maxBodyBytes)) : {};
      const ex: Exchange = { ctx, body, res, signal: controller.signal };
      const reply = await r.handler(ex);
      if (reply === 'streamed') return 200;
      if ('text' in reply) sendText(res, reply.status, reply.text, reply.contentType);
      else sendJson(res, reply.status, reply.body);
      return reply.status;
    } finally {
      if (r.queued) inFlight--;
    }
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const controller = new AbortController();
    const abort = () => controller.abort(new Error('the client closed the connection'));
    res.on('close', () => {
      if (!res.writableFinished) abort();
    });
    const onClosing = () => controller.abort(new Error('the server is closing'));
    closing.signal.addEventListener('abort', onClosing, { once: true });
    const endpoint = (req.url ?? '/').split('?')[0]!;
    const entry = { controller, done: Promise.resolve() };
    entry.done = handle(req, res, controller)
      .catch((err: unknown) => {
        const e = toHttpError(err, controller.signal);
        if (e === null) {
          res.destroy();
          return 499;
        }
        if (res.headersSent) res.end();
        else sendError(res, e);
        // The rest of an oversize body is not read: close the connection once the answer is out.
        if (e.status === 413) res.once('finish', () => req.destroy());
        return e.status;
      })
      .then((status) => {
        metrics.countRequest(knownEndpoint(routes, endpoint), status);
      })
      .finally(() => {
        closing.signal.removeEventListener('abort', onClosing);
        running.delete(entry);
      });
    running.add(entry);
  }

  const server = createServer(onRequest);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // A port in use (EADDRINUSE) or a host that is not ours: the models loaded for nothing go again.
    if (owned) engine.dispose();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host;
  let closed: Promise<void> | undefined;

  const close = (): Promise<void> => {
    closed ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const all = () => Promise.allSettled([...running].map((e) => e.done));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all(), new Promise<void>((resolve) => (timer = setTimeout(resolve, o.closeGraceMs)))]);
      clearTimeout(timer);
      closing.abort();
      await all();
      server.closeAllConnections();
      await stopped;
      if (owned) await engine[Symbol.asyncDispose]();
    })();
    return closed;
  };

  return {
    url: `http://${hostForUrl}:${port}`,
    host: o.host,
    port,
    engine,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The directory part of a model id (`dir@hash`). */
function dirOf(id: string): string {
  const at = id.lastIndexOf('@');
  return at < 0 ? id : id.slice(0, at);
}

/** Metrics label for a path: a known route, or 'other' (unknown paths must not grow the label set). */
function knownEndpoint(routes: Routes, p: string): string {
  return Object.hasOwn(routes, p) ? p : 'other';
}

/** The HTTP answer for an error; null when the client is gone (nothing to answer). */
function toHttpError(err: unknown, signal: AbortSignal): HttpError | null {
  if (err instanceof HttpError) return err;
  if (signal.aborted && (err as Error)?.name !== 'OptionError') {
    return signal.reason instanceof Error && /server is closing/.test(signal.reason.message)
      ? new HttpError(503, 'The server is shutting down', 'server_error', null, 'shutting_down')
      : null;
  }
  if (err instanceof OptionError) return new HttpError(400, err.message, 'invalid_request_error', null, 'invalid_value');
  if (err instanceof KvBudgetError) {
    return new HttpError(503, `The KV cache is full: ${err.message}`, 'server_error', null, 'kv_cache_full', { 'retry-after': '1' });
  }
  return new HttpError(500, `Internal error: ${(err as Error)?.message ?? String(err)}`, 'server_error', null, 'internal_error');
}
