/**
 * A Hugging Face fixture as a quantized GGUF export holds it, read back as numbers for the f64
 * reference (reference-llama.ts): every matrix quantized row by row as the exporter does
 * (quantizeRows, the blocks the file stores) and decoded by quant-reference.ts's independent
 * definitions; 1-D tensors (norms, biases) as stored. Sliding windows are dropped, as in the
 * llama.cpp comparisons (llama.cpp has none for these architectures).
 */
import { checkpointFor, openCheckpoint } from '../../lib/models/checkpoint.js';
import { readModelConfig } from '../../lib/models/config.js';
import { readTensorBytes, toF32 } from '../../lib/models/gguf/tensor-data.js';
import { quantizeRows, type QuantType } from '../../lib/models/quant/index.js';
import { computeRope } from '../../lib/models/rope.js';
import { decodeRows } from './quant-reference.js';
import type { ReferenceModel } from './reference-llama.js';

/**
 * The model in `dir` with its matrices as `type` blocks decode them, or exactly as stored when `type`
 * is omitted. A K-quant type needs every matrix row to be whole 256-element blocks.
 */
export async function dequantizedModel(dir: string, type?: QuantType): Promise<ReferenceModel> {
  const { config } = await readModelConfig(dir);
  const index = await openCheckpoint(dir);
  const ckpt = checkpointFor(index, config);
  const weights = new Map<string, Float32Array>();
  for (const t of ckpt.tensors) {
    const values = toF32(await readTensorBytes(ckpt.files[t.file]!, t), t.dtype);
    if (t.shape.length !== 2 || type === undefined) {
      weights.set(t.name, values);
      continue;
    }
    const [rows, cols] = t.shape as [number, number];
    weights.set(t.name, decodeRows(type, quantizeRows(type, values, rows, cols), rows, cols));
  }
  const rope = computeRope({ headDim: config.headDim, theta: config.ropeTheta, scaling: config.ropeScaling });
  if (rope.attentionScaling !== 1) throw new Error(`dequantizedModel: RoPE attention scaling ${rope.attentionScaling} is not modelled by the reference`);
  return {
    weights,
    config: {
      hidden: config.hiddenSize,
      intermediate: config.intermediateSize,
      layers: config.numLayers,
      heads: config.numHeads,
      kvHeads: config.numKvHeads,
      headDim: config.headDim,
      vocab: config.vocabSize,
      attentionBias: config.attentionBias,
      tieWordEmbeddings: config.tieWordEmbeddings,
      slidingWindow: new Array<number>(config.numLayers).fill(0),
      rmsNormEps: config.rmsNormEps,
      invFreq: rope.invFreq,
    },
  };
}
