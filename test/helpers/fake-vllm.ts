/**
 * A scripted stand-in for a vLLM server on 127.0.0.1 (port 0), speaking the wire formats of
 * lib/protocol: `GET /v1/models`, `POST /v1/completions`, `POST /pooling`, `POST /classify`. Its
 * "policy" writes arithmetic-looking steps chosen by a hash of (prompt, seed), so the same request always
 * gets the same answer and different seeds differ; its "PRM" gives each `<extra_0>`-tagged step a
 * probability that is a hash of the text up to that tag. Every request is recorded; `onRequest` can
 * answer instead (an error status, garbage, a hang, a dropped connection) to script faults.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { completionPrompts, parseCompletionRequest } from '../../lib/protocol/completions.js';
import { parsePoolingRequest, poolingInputs } from '../../lib/protocol/pooling.js';
import { errorBody } from '../../lib/protocol/errors.js';
import { ProtocolError } from '../../lib/protocol/validate.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body (undefined for GET). */
  body: unknown;
  /** 0-based count of requests to this path before this one. */
  nth: number;
}

/** What a script may answer instead of the fake's normal reply. */
export type FakeAction =
  | { status: number; body?: unknown; raw?: string; headers?: Record<string, string> }
  /** Never answer (until the client goes away). */
  | { hang: true }
  /** Drop the connection without an answer. */
  | { destroy: true }
  /** Answer normally after a delay. */
  | { delayMs: number };

export interface FakeVllmOptions {
  /** Served policy name; null serves none. @default 'fake-policy' */
  policy?: string | null;
  /** Served PRM name; null serves none. @default null */
  prm?: string | null;
  /** The card's `root` for each name (vLLM: the model path or repo id). */
  roots?: Record<string, string>;
  /** Required bearer token. */
  apiKey?: string;
  /** Steps before the policy answers. @default 3 */
  steps?: number;
  /** Report `prompt_tokens_details.cached_tokens` as if the prefix cache held this share of each prompt. */
  cachedShare?: number;
  /** Answers instead of the normal reply when it returns an action. */
  onRequest?: (req: RecordedRequest) => FakeAction | undefined | Promise<FakeAction | undefined>;
}

export interface FakeVllm {
  url: string;
  requests: RecordedRequest[];
  /** Requests whose connection closed before the fake answered (the client went away). */
  readonly abandoned: number;
  /** Requests being handled now. */
  readonly open: number;
  /** Stops listening and destroys every connection, as a killed process would. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

/** FNV-1a then murmur's finaliser: a number in [0, 1) fixed by the string. */
export function unit(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return (h >>> 0) / 2 ** 32;
}

/** Whitespace-separated pieces with their spaces, the fake's "tokens". */
function tokenize(text: string): string[] {
  return text.match(/\s*\S+|\s+/gu) ?? [];
}

const countTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

/** The fake policy's next piece of text after `prompt` (no stop handling). */
function nextStep(prompt: string, seed: number, steps: number): { text: string; final: boolean } {
  const header = '<|im_start|>assistant\n';
  const after = prompt.slice(prompt.lastIndexOf(header) + header.length);
  const done = after.split('\n\n').length - 1;
  const r = unit(`${prompt}|${seed}`);
  if (done >= steps || (done >= 1 && r < 0.2)) {
    return { text: `So the answer is \\boxed{${1 + Math.floor(r * 3)}}.`, final: true };
  }
  return { text: `Step ${done + 1}: add ${Math.floor(r * 10)} to get ${Math.floor(r * 100)}.\n\n`, final: false };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function startFakeVllm(options: FakeVllmOptions = {}): Promise<FakeVllm> {
  const policy = options.policy === undefined ? 'fake-policy' : options.policy;
  const prm = options.prm ?? null;
  const steps = options.steps ?? 3;
  const requests: RecordedRequest[] = [];
  const perPath = new Map<string, number>();
  const sockets = new Set<Socket>();
  let abandoned = 0;
  let open = 0;

  // The fake's vocabulary: each distinct piece of tokenize() gets the next id.
  const vocab = new Map<string, number>();
  const pieces: string[] = [];
  const idOf = (t: string) => {
    let id = vocab.get(t);
    if (id === undefined) {
      id = pieces.push(t) - 1;
      vocab.set(t, id);
    }
    return id;
  };
  const decode = (ids: readonly number[]) => ids.map((i) => pieces[i] ?? '').join('');

  const completions = (body: unknown) => {
    const req = parseCompletionRequest(body);
    if (policy === null || (req.model !== undefined && req.model !== policy)) {
      return { status: 404, body: errorBody(404, `The model \`${req.model}\` does not exist.`, 'NotFoundError', 'model') };
    }
    const seed = req.seed ?? 0;
    const stops = req.stop === undefined ? [] : typeof req.stop === 'string' ? [req.stop] : req.stop;
    const maxTokens = req.max_tokens ?? 16;
    const choices = completionPrompts(req).map((p, index) => {
      const prompt = typeof p === 'string' ? p : decode(p);
      let text = '';
      let finish: 'stop' | 'length' = 'stop';
      let stopReason: string | null = null;
      // Without a stop string the policy writes to its answer; with one, one step.
      for (let k = 0; k < 16; k++) {
        const step = nextStep(prompt + text, seed, steps);
        const stop = stops.find((s) => step.text.includes(s));
        if (stop !== undefined) {
          const cut = step.text.indexOf(stop);
          text += step.text.slice(0, cut) + (req.include_stop_str_in_output ? stop : '');
          stopReason = stop;
          break;
        }
        text += step.text;
        if (step.final) break;
      }
      let tokens = tokenize(text);
      if (tokens.length > maxTokens) {
        tokens = tokens.slice(0, maxTokens);
        text = tokens.join('');
        finish = 'length';
        stopReason = null;
      }
      const offsets: number[] = [];
      tokens.reduce((at, t) => (offsets.push(at), at + t.length), prompt.length);
      const logprobs = tokens.map((t, i) => -0.05 - unit(`${prompt}|${seed}|${i}|${t}`));
      return {
        index,
        text,
        logprobs:
          req.logprobs === undefined
            ? null
            : {
                text_offset: offsets,
                token_logprobs: logprobs,
                tokens,
                top_logprobs: tokens.map((t, i) => ({ [t]: logprobs[i]! })),
              },
        finish_reason: finish,
        stop_reason: stopReason,
        prompt_logprobs: null,
        ...(req.return_token_ids ? { token_ids: tokens.map(idOf), prompt_token_ids: typeof p === 'string' ? tokenize(p).map(idOf) : p } : {}),
      };
    });
    const promptTokens = completionPrompts(req).reduce<number>((a, p) => a + (typeof p === 'string' ? countTokens(p) : p.length), 0);
    const completionTokens = choices.reduce((a, c) => a + (c.logprobs?.tokens.length ?? tokenize(c.text).length), 0);
    const usage: Record<string, unknown> = {
      prompt_tokens: promptTokens,
      total_tokens: promptTokens + completionTokens,
      completion_tokens: completionTokens,
    };
    if (options.cachedShare !== undefined) usage.prompt_tokens_details = { cached_tokens: Math.floor(promptTokens * options.cachedShare) };
    return {
      status: 200,
      body: { id: `cmpl-${requests.length}`, object: 'text_completion', created: 1_700_000_000, model: policy, choices, usage },
    };
  };

  const pooling = (body: unknown) => {
    const req = parsePoolingRequest(body);
    if (prm === null || (req.model !== undefined && req.model !== prm)) {
      return { status: 404, body: errorBody(404, `The model \`${req.model}\` does not exist.`, 'NotFoundError', 'model') };
    }
    const inputs = poolingInputs(req).map((p) => (typeof p === 'string' ? p : p.join(' ')));
    const data = inputs.map((text, index) => {
      const pieces = text.split('<extra_0>').slice(0, -1);
      const rows = pieces.map((_, k) => {
        const p = unit(pieces.slice(0, k + 1).join('<extra_0>'));
        return [1 - p, p];
      });
      return { index, object: 'pooling', data: rows };
    });
    const tokens = inputs.reduce((a, t) => a + countTokens(t), 0);
    return {
      status: 200,
      body: { id: `pool-${requests.length}`, object: 'list', created: 1_700_000_000, model: prm, data, usage: { prompt_tokens: tokens, total_tokens: tokens, completion_tokens: 0, prompt_tokens_details: null } },
    };
  };

  const classify = (body: unknown) => {
    const input = (body as { input?: unknown }).input;
    const inputs = typeof input === 'string' ? [input] : (input as string[]);
    const data = inputs.map((text, index) => {
      const p = unit(`outcome|${text}`);
      return { index, label: p > 0.5 ? 'LABEL_1' : 'LABEL_0', probs: [1 - p, p], num_classes: 2 };
    });
    const tokens = inputs.reduce((a, t) => a + countTokens(t), 0);
    return { status: 200, body: { id: 'classify-0', object: 'list', created: 1_700_000_000, model: prm, data, usage: { prompt_tokens: tokens, total_tokens: tokens } } };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    let body: unknown;
    const text = Buffer.concat(chunks).toString('utf8');
    if (method === 'POST') {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        return json(res, 400, errorBody(400, 'Malformed JSON body', 'BadRequestError'));
      }
    }
    const nth = perPath.get(path) ?? 0;
    perPath.set(path, nth + 1);
    const record: RecordedRequest = { method, path, headers: req.headers, body, nth };
    requests.push(record);
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return json(res, 401, errorBody(401, 'Unauthorized', 'AuthenticationError'));
    }
    const action = await options.onRequest?.(record);
    if (action !== undefined) {
      if ('hang' in action) return new Promise<void>((resolve) => res.on('close', () => resolve()));
      if ('destroy' in action) {
        req.socket.destroy();
        return;
      }
      if ('delayMs' in action) await new Promise((r) => setTimeout(r, action.delayMs));
      else if (action.raw !== undefined) {
        res.writeHead(action.status, { 'content-type': 'application/json', ...action.headers });
        res.end(action.raw);
        return;
      } else return json(res, action.status, action.body ?? {}, action.headers);
    }
    try {
      if (method === 'GET' && path === '/v1/models') {
        const names = [policy, prm].filter((n): n is string => n !== null);
        const data = names.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'vllm', root: options.roots?.[id] ?? id, parent: null, max_model_len: 4096, permission: [] }));
        return json(res, 200, { object: 'list', data });
      }
      const route = method === 'POST' ? { '/v1/completions': completions, '/pooling': pooling, '/classify': classify }[path] : undefined;
      if (!route) return json(res, 404, errorBody(404, `Not Found: ${method} ${path}`, 'NotFoundError'));
      const out = route(body);
      return json(res, out.status, out.body);
    } catch (err) {
      if (err instanceof ProtocolError) return json(res, 400, errorBody(400, err.message, 'BadRequestError', err.param));
      throw err;
    }
  };

  const server: Server = createServer((req, res) => {
    open++;
    res.on('close', () => {
      open--;
      if (!res.writableFinished) abandoned++;
    });
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, errorBody(500, String(err), 'InternalServerError'));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get abandoned() {
      return abandoned;
    },
    get open() {
      return open;
    },
    async kill() {
      const closed = close();
      for (const s of sockets) s.destroy();
      await closed;
    },
    async close() {
      const closed = close();
      server.closeAllConnections();
      await closed;
    },
  };
}
