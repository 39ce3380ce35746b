// The flop counts and the roofline bound behind the decode and profile suites' "of peak" and "of
// roofline" columns, checked against a count written out per tensor.
import { describe, expect, it } from 'vitest';
import { bodyMatrixParams, decodeGemmFlops, decodeStepBound, decodeStepFlops, prefillFlops } from '../../lib/cli/bench/roofline.js';
import { QWEN25_05B, type ModelShape } from '../../lib/cli/bench/random-model.js';

const tiny: ModelShape = { hidden: 8, layers: 2, heads: 4, kvHeads: 2, headDim: 2, intermediate: 12, vocab: 10 };

/** [out, in] of every projection of one layer, as the checkpoint stores them. */
function layerMatrices(s: ModelShape): [number, number][] {
  const q = s.heads * s.headDim, kv = s.kvHeads * s.headDim;
  return [[q, s.hidden], [kv, s.hidden], [kv, s.hidden], [s.hidden, q], [s.intermediate, s.hidden], [s.intermediate, s.hidden], [s.hidden, s.intermediate]];
}

describe('bench roofline', () => {
  it('counts the projections of every layer', () => {
    const perLayer = layerMatrices(tiny).reduce((a, [o, i]) => a + o * i, 0);
    expect(bodyMatrixParams(tiny)).toBe(2 * perLayer);
    // Qwen2.5-0.5B: 494M parameters, of which 136M are the (tied) embedding.
    expect(bodyMatrixParams(QWEN25_05B) + QWEN25_05B.vocab * QWEN25_05B.hidden).toBeGreaterThan(0.48e9);
    expect(bodyMatrixParams(QWEN25_05B) + QWEN25_05B.vocab * QWEN25_05B.hidden).toBeLessThan(0.5e9);
  });

  it('adds causal attention to a prefill and logits for its last row only', () => {
    const body = 2 * bodyMatrixParams(tiny);
    // 3 tokens see 1, 2 and 3 keys; each key costs 2·2·headDim flops per query head and layer.
    const attention = (1 + 2 + 3) * 4 * tiny.headDim * tiny.heads * tiny.layers;
    expect(prefillFlops(tiny, 3)).toBe(3 * body + attention + 2 * tiny.vocab * tiny.hidden);
  });

  it('counts a decode step per sequence, with the LM head for each', () => {
    const gemm = 2 * (bodyMatrixParams(tiny) + tiny.vocab * tiny.hidden);
    expect(decodeGemmFlops(tiny, 5)).toBe(5 * gemm);
    expect(decodeStepFlops(tiny, 5, 7)).toBe(5 * (gemm + 7 * 4 * tiny.headDim * tiny.heads * tiny.layers));
  });

  it('bounds a step by the slower of streaming the weights and the arithmetic', () => {
    expect(decodeStepBound(1e9, 50, 1e9, 1000)).toBeCloseTo(0.02, 12); // bandwidth: 1 GB at 50 GB/s
    expect(decodeStepBound(1e9, 50, 40e9, 1000)).toBeCloseTo(0.04, 12); // arithmetic: 40 GFLOP at 1 TFLOP/s
  });
});
