// The model shapes `thinktree bench --shape` offers: each matches its model card's parameter count
// (Qwen2.5-0.5B: 0.49B, Qwen2.5-1.5B: 1.54B, both with tied embeddings), and the suites name the shape
// they ran.
import { describe, expect, it } from 'vitest';
import { describeShape, MODEL_SHAPES, type ModelShape } from '../../lib/cli/bench/random-model.js';

// Weights of a Qwen2-style decoder with tied embeddings: the embedding, and per layer q/o (hidden²),
// k/v (hidden × kvHeads · headDim) and the three MLP matrices (norms and biases are under 0.1%).
function parameters(s: ModelShape): number {
  const kv = s.kvHeads * s.headDim;
  const layer = 2 * s.hidden * s.heads * s.headDim + 2 * s.hidden * kv + 3 * s.hidden * s.intermediate;
  return s.vocab * s.hidden + s.layers * layer;
}

describe('bench model shapes', () => {
  it.each([
    ['qwen2.5-0.5b', 0.49e9],
    ['qwen2.5-1.5b', 1.54e9],
  ] as const)('%s has its model card parameter count', (name, count) => {
    const { shape } = MODEL_SHAPES[name];
    expect(shape.heads * shape.headDim).toBe(shape.hidden);
    expect(Math.abs(parameters(shape) / count - 1)).toBeLessThan(0.01);
  });

  it('names a known shape by its model and any other by its dimensions', () => {
    expect(describeShape(MODEL_SHAPES['qwen2.5-0.5b'].shape)).toBe('Qwen2.5-0.5B shape');
    expect(describeShape({ ...MODEL_SHAPES['qwen2.5-1.5b'].shape })).toBe('Qwen2.5-1.5B shape');
    expect(describeShape({ ...MODEL_SHAPES['qwen2.5-1.5b'].shape, layers: 2 })).toBe('2 layers, hidden 1536, intermediate 8960, vocab 151936');
  });
});
