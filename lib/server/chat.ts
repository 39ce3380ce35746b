/**
 * `POST /v1/chat/completions`: the chat template applied with `Model.chatPrompt`, then a completion on
 * the policy (SSE token deltas with `stream: true`); a `model` that names a search, or a `thinktree`
 * extension field with a strategy, runs a search instead (search-model.ts).
 */
import type { ChatCompletionChunk, ChatCompletionResponse, ChatTokenLogprob } from '../protocol/chat.js';
import type { TextTokenizer } from '../models/tokenizer.js';
import { HttpError, badField } from './errors.js';
import { modelNotFound, nowSeconds, requestId, usage, type Exchange, type Reply } from './exchange.js';
import { SseStream } from './http.js';
import { readMessages } from './messages.js';
import { SAMPLING_FIELDS, completionBudget, readSampling, readStream } from './sampling.js';
import { isSearchRequest, searchChat } from './search-model.js';
import { checkKnownKeys, optBool, optNumber, optString } from './validate.js';

export const CHAT_FIELDS = [
  'model',
  'messages',
  'max_completion_tokens',
  'logprobs',
  'top_logprobs',
  'add_generation_prompt',
  'thinktree',
  ...SAMPLING_FIELDS,
] as const;

export async function chatCompletions(ex: Exchange): Promise<Reply> {
  const { ctx, body } = ex;
  checkKnownKeys(body, CHAT_FIELDS);
  const model = optString(body, 'model') ?? ctx.names.policy;
  const messages = readMessages(body.messages);
  if (isSearchRequest(ctx, model, body)) return searchChat(ex, model, messages);
  if (body.thinktree !== undefined && body.thinktree !== null) {
    throw badField('thinktree.strategy', '`thinktree` search options need `thinktree.strategy` (or a model named like beam-16)', 'missing_field');
  }
  if (model !== ctx.names.policy) {
    if (model === ctx.names.prm) throw badField('model', `\`${model}\` is a reward model; it answers POST /pooling`, 'wrong_endpoint');
    throw modelNotFound(model);
  }
  const logprobs = optBool(body, 'logprobs') ?? false;
  // Only the sampled token's log-probability is known (the native step returns no alternatives).
  const top = optNumber(body, 'top_logprobs', { min: 0, max: 20, integer: true });
  if (top !== undefined && top > 0) throw badField('top_logprobs', '`top_logprobs` above 0 is not supported (only the sampled token\'s log-probability is known)', 'unsupported');
  if (body.max_completion_tokens !== undefined && body.max_tokens !== undefined) {
    throw badField('max_completion_tokens', 'Give `max_tokens` or `max_completion_tokens`, not both');
  }
  const sampling = readSampling(body, body.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens');
  const stream = readStream(body);
  const policy = ctx.engine.policy;
  let text: string;
  try {
    text = policy.chatPrompt(messages, { addGenerationPrompt: optBool(body, 'add_generation_prompt') ?? true });
  } catch (err) {
    throw badField('messages', `The chat template failed on these messages: ${(err as Error).message}`);
  }
  // The template writes the special tokens itself (vLLM encodes chat prompts without adding any).
  const prompt = Array.from(policy.tokenizer.encode(text, { addSpecialTokens: false }));
  const maxTokens = completionBudget(prompt.length, sampling.maxTokens, ctx.policyContext, 'messages');
  const request = { ...sampling, prompt, maxTokens };
  const id = requestId('chatcmpl');
  const created = nowSeconds();
  if (stream.stream && logprobs) throw badField('logprobs', '`logprobs` with `stream: true` is not supported', 'unsupported');
  if (stream.stream) {
    const sse = new SseStream(ex.res);
    const chunk = (choices: ChatCompletionChunk['choices'], extra: Partial<ChatCompletionChunk> = {}) =>
      sse.send<ChatCompletionChunk>({ id, object: 'chat.completion.chunk', created, model, choices, ...extra });
    for (let index = 0; index < request.n; index++) chunk([{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
    try {
      const counts = await ctx.generator.stream(
        request,
        (deltas) => {
          for (const d of deltas) {
            chunk([
              {
                index: d.index,
                delta: d.text === '' ? {} : { content: d.text },
                logprobs: null,
                finish_reason: d.finish?.finishReason ?? null,
                ...(d.finish ? { stop_reason: d.finish.stopReason } : {}),
              },
            ]);
          }
        },
        ex.signal,
      );
      if (stream.includeUsage) chunk([], { usage: usage(counts.promptTokens, counts.completionTokens, counts.cachedTokens) });
      sse.done();
    } catch (err) {
      if (!ex.signal.aborted) sse.fail(err instanceof HttpError ? err : new HttpError(500, (err as Error).message, 'server_error'));
    }
    return 'streamed';
  }
  const { choices: outs, cachedTokens } = await ctx.generator.complete(request, ex.signal);
  return {
    status: 200,
    body: {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: outs.map((c, index) => ({
        index,
        message: { role: 'assistant', content: c.text },
        logprobs: logprobs ? { content: tokenLogprobs(policy.tokenizer, c.tokens, c.logprobs) } : null,
        finish_reason: c.finishReason,
        stop_reason: c.stopReason,
      })),
      usage: usage(prompt.length, outs.reduce((a, c) => a + c.tokens.length, 0), cachedTokens),
    } satisfies ChatCompletionResponse,
  };
}

/** OpenAI's chat logprobs: each generated token with its text, bytes and log-probability. */
function tokenLogprobs(tokenizer: TextTokenizer, tokens: readonly number[], logprobs: readonly number[]): ChatTokenLogprob[] {
  const encoder = new TextEncoder();
  return tokens.map((t, i) => {
    const token = tokenizer.decode([t], { skipSpecialTokens: false });
    return { token, logprob: logprobs[i]!, bytes: Array.from(encoder.encode(token)), top_logprobs: [] };
  });
}
