/** `POST /v1/completions` in vLLM's shape: prompts as text or token ids, `n` forks, optional SSE. */
import type { CompletionChunkBody } from './stream-types.js';
import type { CompletionLogprobs, CompletionResponse } from '../protocol/completions.js';
import { HttpError, badField } from './errors.js';
import { modelNotFound, nowSeconds, requestId, usage, type Exchange, type Reply } from './exchange.js';
import type { ChoiceOutput, GenerationRequest } from './generate.js';
import { SseStream } from './http.js';
import { SAMPLING_FIELDS, completionBudget, readSampling, readStream } from './sampling.js';
import { parseSearchModel } from './search-model.js';
import { checkKnownKeys, optBool, optNumber, optString, promptList } from './validate.js';

const FIELDS = ['model', 'prompt', 'logprobs', 'echo', 'suffix', 'return_token_ids', ...SAMPLING_FIELDS] as const;

/** Most prompts in one request. */
const MAX_PROMPTS = 256;

/** Most sequences one request may decode (prompts × n). */
const MAX_SEQUENCES = 1024;

/** Default `max_tokens` of a completion (OpenAI's). */
const DEFAULT_MAX_TOKENS = 16;

interface Checked {
  model: string;
  requests: GenerationRequest[];
  logprobs: number | undefined;
  /** vLLM's return_token_ids: each choice carries its generated and prompt token ids. */
  returnTokenIds: boolean;
  stream: { stream: boolean; includeUsage: boolean };
}

export function checkCompletion(ex: Exchange): Checked {
  const { ctx, body } = ex;
  checkKnownKeys(body, FIELDS);
  const model = optString(body, 'model') ?? ctx.names.policy;
  if (model !== ctx.names.policy) {
    if (model === ctx.names.prm) throw badField('model', `\`${model}\` is a reward model; it answers POST /pooling`, 'wrong_endpoint');
    if (parseSearchModel(model) !== null) throw badField('model', `\`${model}\` is a search; it answers POST /v1/chat/completions`, 'wrong_endpoint');
    throw modelNotFound(model);
  }
  if (optBool(body, 'echo')) throw badField('echo', '`echo: true` is not supported', 'unsupported');
  if (body.suffix !== undefined && body.suffix !== null) throw badField('suffix', '`suffix` is not supported', 'unsupported');
  const logprobs = optNumber(body, 'logprobs', { min: 0, max: 20, integer: true });
  const sampling = readSampling(body);
  const stream = readStream(body);
  const policy = ctx.engine.policy;
  const prompts = promptList(body.prompt, 'prompt', policy.tokenizer.vocabSize);
  if (prompts.length > MAX_PROMPTS) throw badField('prompt', `\`prompt\` takes at most ${MAX_PROMPTS} prompts, got ${prompts.length}`);
  if (prompts.length * sampling.n > MAX_SEQUENCES) {
    throw badField('n', `${prompts.length} prompts × n = ${sampling.n} asks for ${prompts.length * sampling.n} completions; at most ${MAX_SEQUENCES} per request`);
  }
  const requests = prompts.map((p, i) => {
    const ids = typeof p === 'string' ? Array.from(policy.tokenizer.encode(p, { addSpecialTokens: true })) : p;
    const param = prompts.length === 1 ? 'prompt' : `prompt[${i}]`;
    if (ids.length === 0) throw badField(param, `\`${param}\` encodes to no tokens`);
    const maxTokens = completionBudget(ids.length, sampling.maxTokens ?? DEFAULT_MAX_TOKENS, ctx.policyContext, param);
    return { ...sampling, prompt: ids, maxTokens };
  });
  if (stream.stream && logprobs !== undefined) throw badField('logprobs', '`logprobs` with `stream: true` is not supported', 'unsupported');
  const returnTokenIds = optBool(body, 'return_token_ids') ?? false;
  if (stream.stream && returnTokenIds) throw badField('return_token_ids', '`return_token_ids` with `stream: true` is not supported', 'unsupported');
  return { model, requests, logprobs, returnTokenIds, stream };
}

/**
 * vLLM's completion logprobs. Only the sampled token's log-probability is known (the native step does not
 * return the top-k alternatives), so `top_logprobs` lists the sampled token alone.
 */
function logprobsOf(ex: Exchange, c: ChoiceOutput): CompletionLogprobs {
  const tok = ex.ctx.engine.policy.tokenizer;
  const tokens = c.tokens.map((t) => tok.decode([t], { skipSpecialTokens: false }));
  const offsets: number[] = [];
  let at = 0;
  for (const t of tokens) {
    offsets.push(at);
    at += t.length;
  }
  return {
    text_offset: offsets,
    token_logprobs: c.logprobs,
    tokens,
    top_logprobs: tokens.map((t, i) => ({ [t]: c.logprobs[i] })),
  };
}

export async function completions(ex: Exchange): Promise<Reply> {
  const checked = checkCompletion(ex);
  const { requests, model } = checked;
  const id = requestId('cmpl');
  const created = nowSeconds();
  if (checked.stream.stream) return streamCompletions(ex, checked, id, created);
  const results = await Promise.all(requests.map((r) => ex.ctx.generator.complete(r, ex.signal)));
  const choices = results.flatMap(({ choices: outs }, p) =>
    outs.map((c, i) => ({
      index: p * requests[p]!.n + i,
      text: c.text,
      logprobs: checked.logprobs === undefined ? null : logprobsOf(ex, c),
      finish_reason: c.finishReason,
      stop_reason: c.stopReason,
      ...(checked.returnTokenIds ? { token_ids: c.tokens, prompt_token_ids: [...requests[p]!.prompt] } : {}),
    })),
  );
  const promptTokens = requests.reduce((a, r) => a + r.prompt.length, 0);
  const completionTokens = results.flatMap((r) => r.choices).reduce((a, c) => a + c.tokens.length, 0);
  const cachedTokens = results.reduce((a, r) => a + r.cachedTokens, 0);
  return {
    status: 200,
    body: { id, object: 'text_completion', created, model, choices, usage: usage(promptTokens, completionTokens, cachedTokens) } satisfies CompletionResponse,
  };
}

async function streamCompletions(ex: Exchange, checked: Checked, id: string, created: number): Promise<Reply> {
  const sse = new SseStream(ex.res);
  const { requests, model } = checked;
  try {
    const counts = await Promise.all(
      requests.map((r, p) =>
        ex.ctx.generator.stream(
          r,
          (deltas) => {
            for (const d of deltas) {
              sse.send<CompletionChunkBody>({
                id,
                object: 'text_completion',
                created,
                model,
                choices: [
                  {
                    index: p * r.n + d.index,
                    text: d.text,
                    logprobs: null,
                    finish_reason: d.finish?.finishReason ?? null,
                    stop_reason: d.finish?.stopReason ?? null,
                  },
                ],
              });
            }
          },
          ex.signal,
        ),
      ),
    );
    if (checked.stream.includeUsage) {
      const prompt = counts.reduce((a, c) => a + c.promptTokens, 0);
      const completion = counts.reduce((a, c) => a + c.completionTokens, 0);
      const cached = counts.reduce((a, c) => a + c.cachedTokens, 0);
      sse.send<CompletionChunkBody>({ id, object: 'text_completion', created, model, choices: [], usage: usage(prompt, completion, cached) });
    }
    sse.done();
  } catch (err) {
    if (!ex.signal.aborted) sse.fail(err instanceof HttpError ? err : new HttpError(500, (err as Error).message, 'server_error'));
  }
  return 'streamed';
}
