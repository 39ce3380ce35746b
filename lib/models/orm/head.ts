/**
 * The `score` head of an outcome reward model, chosen from config.json's architecture and checked
 * against the checkpoint's tensors, and how one row of its outputs becomes the reward.
 *
 * - Qwen2ForRewardModel (Qwen2.5-Math-RM): `score.0` Linear(h, h) + ReLU + `score.2` Linear(h, 1), biases
 *   on both: the native 'mlp2' head, the PRM's head kind with one output.
 * - LlamaForSequenceClassification / Qwen2ForSequenceClassification (transformers): `score.weight`
 *   [num_labels, h], no bias: the native 'linear' head.
 */
import type { NativeHeadSpec } from '../../native/addon-types.js';
import type { HeadContext } from '../prepare.js';
import { OrmFormatError } from './errors.js';

export interface OrmHead {
  head: NativeHeadSpec;
  /** Width of one output row (num_labels). */
  outputs: number;
}

function shape(ctx: HeadContext, name: string): number[] | undefined {
  return ctx.checkpoint.where.get(name)?.entry.shape;
}

export function chooseOrmHead(ctx: HeadContext): OrmHead {
  const { dir, config } = ctx;
  const h = config.hiddenSize;
  switch (config.architecture) {
    case 'Qwen2ForRewardModel': {
      const out = shape(ctx, 'score.2.weight');
      if (out === undefined) throw new OrmFormatError(dir, 'Qwen2ForRewardModel needs the tensor score.2.weight (its head is score.0 Linear + ReLU + score.2 Linear); the checkpoint has none');
      if (out.length !== 2 || out[1] !== h) throw new OrmFormatError(dir, `score.2.weight has shape [${out.join(', ')}], expected [outputs, ${h}]`);
      return { head: { kind: 'mlp2', prefix: 'score', outputs: out[0]! }, outputs: out[0]! };
    }
    case 'LlamaForSequenceClassification':
    case 'Qwen2ForSequenceClassification': {
      const w = shape(ctx, 'score.weight');
      if (w === undefined) throw new OrmFormatError(dir, `${config.architecture} needs the tensor score.weight [num_labels, ${h}]; the checkpoint has none`);
      if (w.length !== 2 || w[1] !== h) throw new OrmFormatError(dir, `score.weight has shape [${w.join(', ')}], expected [num_labels, ${h}]`);
      // transformers builds this head without a bias; a checkpoint that has one is read with it.
      const bias = shape(ctx, 'score.bias') !== undefined;
      return { head: { kind: 'linear', prefix: 'score', outputs: w[0]!, bias }, outputs: w[0]! };
    }
    default:
      throw new OrmFormatError(
        dir,
        `config.json names ${config.architecture}, which is not an outcome reward model; expected Qwen2ForRewardModel, LlamaForSequenceClassification or Qwen2ForSequenceClassification`,
      );
  }
}

/**
 * The reward of one row: the value itself for a one-output head (what Qwen2ForRewardModel and a
 * one-label classifier return), else the softmax probability of `label`. NaN or ±∞ → null.
 */
export function ormReward(rows: Float32Array, offset: number, width: number, label: number): number | null {
  if (width === 1) {
    const v = rows[offset]!;
    return Number.isFinite(v) ? v : null;
  }
  // softmax(x)[k] = 1 / Σ_j exp(x_j − x_k)
  const pivot = rows[offset + label]!;
  let sum = 0;
  for (let j = 0; j < width; j++) sum += Math.exp(rows[offset + j]! - pivot);
  const p = 1 / sum;
  return Number.isFinite(p) ? p : null;
}
