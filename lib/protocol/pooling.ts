/**
 * vLLM's pooling API, through which it serves reward models, and the classification API.
 *
 * `POST /pooling` runs the model's pooler over each input and returns its output as nested float lists.
 * For a process reward model (`Qwen2ForProcessRewardModel`, default pooling type STEP; Math-Shepherd
 * style causal LMs served with `--pooler-config '{"pooling_type": "STEP", "step_tag_id": …,
 * "returned_token_ids": [good, bad]}'`) the pooler keeps the positions whose token is the step tag
 * (`<extra_0>`, id 151651, for Qwen2.5-Math-PRM: vLLM's Qwen2ForProcessRewardModelConfig sets it) and
 * returns, for each, the softmaxed class probabilities: `data` is `number[steps][classes]`, steps in
 * text order. Qwen2.5-Math-PRM's class 1 is "the step is correct" (the model card's
 * `probabilities[:, 1]`). The task for it is `token_classify` (vLLM ≥ 0.11 routes /pooling by `task`;
 * older releases served it as `--task reward` with no task field and ignore the unknown field).
 *
 * `POST /classify` returns one class distribution per input (sequence classifiers and outcome reward
 * models): `data[i].probs`.
 */
import { readUsage, type UsageInfo } from './usage.js';
import { eachOf, FieldReader, numberArray, ProtocolError, readPrompts } from './validate.js';

/** Pooling tasks vLLM names (vllm/tasks.py); a PRM is served for 'token_classify'. */
export const POOLING_TASKS = ['token_classify', 'classify', 'embed', 'token_embed', 'score', 'plugin'] as const;
export type PoolingTask = (typeof POOLING_TASKS)[number];

export interface PoolingRequest {
  model?: string;
  /** A string, strings (one output per string), token ids, or token-id arrays. */
  input: string | string[] | number[] | number[][];
  task?: PoolingTask;
  /** @default 'float' */
  encoding_format?: 'float' | 'base64';
  /** Apply the pooler's activation (softmax for a PRM). @default the pooler's, true for most */
  use_activation?: boolean;
  /** The input is laid out by the caller (chat template applied), so no BOS is added. @default true */
  add_special_tokens?: boolean;
  truncate_prompt_tokens?: number;
  user?: string;
}

export interface PoolingResponseData {
  index: number;
  object: 'pooling';
  /** STEP pooler: one row of class probabilities per step tag. Base64 when encoding_format was base64. */
  data: number[][] | number[] | string;
}

export interface PoolingResponse {
  id: string;
  object: 'list';
  created: number;
  model: string;
  data: PoolingResponseData[];
  usage: UsageInfo;
}

export interface ClassifyRequest {
  model?: string;
  input: string | string[];
  add_special_tokens?: boolean;
  truncate_prompt_tokens?: number;
}

export interface ClassifyResponseData {
  index: number;
  /** The most likely class's name, from the model's id2label. */
  label: string | null;
  probs: number[];
  num_classes: number;
}

export interface ClassifyResponse {
  id: string;
  object: 'list';
  created: number;
  model: string;
  data: ClassifyResponseData[];
  usage: UsageInfo;
}

/** Checks a pooling request body (a server's view). Only the completion form (`input`) is accepted. */
export function parsePoolingRequest(body: unknown): PoolingRequest {
  const r = FieldReader.of(body, '');
  if (r.has('messages')) throw new ProtocolError('the chat form of /pooling (messages) is not supported; send input', 'messages');
  if (!r.has('input')) throw new ProtocolError('input is required', 'input');
  readPrompts(r.obj.input, 'input');
  const req: PoolingRequest = { input: r.obj.input as PoolingRequest['input'] };
  const model = r.optString('model');
  if (model !== undefined) req.model = model;
  const task = r.optEnum('task', POOLING_TASKS);
  if (task !== undefined) req.task = task;
  const enc = r.optEnum('encoding_format', ['float', 'base64'] as const);
  if (enc !== undefined) req.encoding_format = enc;
  const act = r.optBoolean('use_activation');
  if (act !== undefined) req.use_activation = act;
  const special = r.optBoolean('add_special_tokens');
  if (special !== undefined) req.add_special_tokens = special;
  const trunc = r.optNumber('truncate_prompt_tokens', { integer: true, min: -1 });
  if (trunc !== undefined) req.truncate_prompt_tokens = trunc;
  return req;
}

/** The list of inputs of a pooling request. */
export function poolingInputs(req: PoolingRequest): (string | number[])[] {
  return readPrompts(req.input, 'input');
}

/** Checks a pooling response (a client's view); data sorted by index. */
export function parsePoolingResponse(body: unknown): PoolingResponse {
  const r = FieldReader.of(body, '');
  const data = eachOf(r.array('data'), 'data', (d): PoolingResponseData => {
    const v = d.obj.data;
    const path = d.at('data');
    let out: PoolingResponseData['data'];
    if (typeof v === 'string') out = v;
    else if (Array.isArray(v) && v.every((row) => Array.isArray(row))) out = v.map((row, i) => numberArray(row, `${path}[${i}]`));
    else out = numberArray(v, path);
    return { index: d.number('index', { integer: true, min: 0 }), object: 'pooling', data: out };
  });
  return {
    id: r.optString('id') ?? '',
    object: 'list',
    created: r.optNumber('created') ?? 0,
    model: r.optString('model') ?? '',
    data: data.sort((a, b) => a.index - b.index),
    usage: readUsage(r.object('usage')),
  };
}

/**
 * The step rows of one STEP-pooler output: `number[steps][classes]`. A flat list (one step pooled to a
 * 1-D list by an older server) is one row. Base64 output is refused: ask for `encoding_format: 'float'`.
 */
export function stepRows(item: PoolingResponseData, path = `data[${item.index}].data`): number[][] {
  const d = item.data;
  if (typeof d === 'string') throw new ProtocolError(`${path} is base64; request encoding_format 'float'`, path);
  if (d.length === 0) return [];
  return Array.isArray(d[0]) ? (d as number[][]) : [d as number[]];
}

/** Checks a classification response (a client's view); data sorted by index. */
export function parseClassifyResponse(body: unknown): ClassifyResponse {
  const r = FieldReader.of(body, '');
  const data = eachOf(r.array('data'), 'data', (d): ClassifyResponseData => {
    const probs = numberArray(d.obj.probs, d.at('probs'));
    return {
      index: d.number('index', { integer: true, min: 0 }),
      label: d.nullableString('label'),
      probs,
      num_classes: d.optNumber('num_classes', { integer: true, min: 1 }) ?? probs.length,
    };
  });
  return {
    id: r.optString('id') ?? '',
    object: 'list',
    created: r.optNumber('created') ?? 0,
    model: r.optString('model') ?? '',
    data: data.sort((a, b) => a.index - b.index),
    usage: readUsage(r.object('usage')),
  };
}
