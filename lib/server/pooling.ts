/**
 * `POST /pooling` for the PRM in vLLM's shape for Qwen2ForProcessRewardModel (the STEP pooler, task
 * `token_classify` / `reward`): each input is the PRM's whole text with the step separator (`<extra_0>`
 * for Qwen2.5-Math-PRM) after every step; the output has, per separator token, the class probabilities
 * `[p(bad), p(good)]`, as the vLLM sources lib/protocol/versions.ts names define them. Unlike vLLM,
 * which turns prefix caching off for pooling, the spans run through the prefix cache: a client that
 * resubmits a node's whole text each step (the RemoteBackend) pays only for the new step's tokens.
 */
import type { PoolingResponse } from '../protocol/pooling.js';
import { badField, HttpError } from './errors.js';
import { modelNotFound, nowSeconds, requestId, type Exchange, type Reply } from './exchange.js';
import { checkKnownKeys, optBool, optNumber, optString, promptList } from './validate.js';

const FIELDS = ['model', 'input', 'encoding_format', 'add_special_tokens', 'truncate_prompt_tokens', 'user', 'task', 'dimensions', 'use_activation', 'softmax', 'activation'] as const;

/** Most inputs in one request. */
const MAX_INPUTS = 1024;

export async function pooling(ex: Exchange): Promise<Reply> {
  const { ctx, body } = ex;
  checkKnownKeys(body, FIELDS);
  const prm = ctx.engine.prm;
  const model = optString(body, 'model') ?? ctx.names.prm ?? ctx.names.policy;
  if (prm === undefined || model !== ctx.names.prm) {
    if (model === ctx.names.policy) throw badField('model', `\`${model}\` is a generative model; pooling needs the reward model${ctx.names.prm ? ` \`${ctx.names.prm}\`` : ' (this server has none)'}`, 'wrong_endpoint');
    throw modelNotFound(model);
  }
  const encoding = optString(body, 'encoding_format') ?? 'float';
  if (encoding !== 'float') throw badField('encoding_format', '`encoding_format` must be "float"', 'unsupported');
  const task = optString(body, 'task');
  if (task !== undefined && task !== 'token_classify' && task !== 'reward' && task !== 'encode') {
    throw badField('task', `\`task\` must be "token_classify" or "reward" for a process reward model, got ${JSON.stringify(task)}`);
  }
  if (body.truncate_prompt_tokens !== undefined && body.truncate_prompt_tokens !== null) {
    throw badField('truncate_prompt_tokens', '`truncate_prompt_tokens` is not supported', 'unsupported');
  }
  optNumber(body, 'dimensions', { min: 1, integer: true });
  optBool(body, 'softmax');
  optBool(body, 'activation');
  if (optBool(body, 'use_activation') === false) throw badField('use_activation', '`use_activation: false` (raw logits) is not supported', 'unsupported');
  const addSpecial = optBool(body, 'add_special_tokens') ?? true;
  const readToken = prm.format.readToken;
  if (readToken === undefined) {
    throw new HttpError(400, `The ${prm.format.name} reward model marks no step token; /pooling needs one`, 'invalid_request_error', 'model', 'unsupported');
  }
  const inputs = promptList(body.input, 'input', prm.tokenizer.vocabSize);
  if (inputs.length > MAX_INPUTS) throw badField('input', `\`input\` takes at most ${MAX_INPUTS} texts, got ${inputs.length}`);
  const encoded = inputs.map((p, i) => {
    const ids = typeof p === 'string' ? Array.from(prm.tokenizer.encode(p, { addSpecialTokens: addSpecial })) : p;
    const param = inputs.length === 1 ? 'input' : `input[${i}]`;
    if (ids.length === 0) throw badField(param, `\`${param}\` encodes to no tokens`);
    if (ids.length > ctx.prmContext) {
      throw new HttpError(400, `This model's maximum context length is ${ctx.prmContext} tokens. However, \`${param}\` has ${ids.length} tokens.`, 'invalid_request_error', param, 'context_length_exceeded');
    }
    return ids;
  });
  const rule = prm.format.reward;
  const positions = encoded.map((ids) => ids.flatMap((t, i) => (t === readToken ? [i] : [])));
  // All inputs in shared forwards, each span through the prefix cache (a resubmitted prefix is not recomputed).
  const { rewards, cachedTokens } = await prm.scoreAt(encoded, positions, ex.signal);
  const tokens = encoded.reduce((a, ids) => a + ids.length, 0);
  // Two classes in the head's order (the reward is class `pick`); a value head gives its one probability.
  const data = rewards.map((rs, index) => ({
    index,
    object: 'pooling' as const,
    data: rs.map((r) => (rule.kind === 'sigmoid' ? [r] : rule.pick === 1 ? [1 - r, r] : [r, 1 - r])),
  }));
  ctx.metrics.prmTokens += tokens;
  return {
    status: 200,
    body: {
      id: requestId('pool'),
      object: 'list',
      created: nowSeconds(),
      model,
      data,
      usage: { prompt_tokens: tokens, total_tokens: tokens, completion_tokens: 0, prompt_tokens_details: { cached_tokens: cachedTokens } },
    } satisfies PoolingResponse,
  };
}
