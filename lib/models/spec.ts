/**
 * Assembles the NativeModelSpec: everything native code needs to build the decoder, taken from the
 * validated config, checkpoint table and tokenizer. No I/O here.
 */
import type { IsaName, NativeHeadSpec, NativeModelSpec, PrecisionName } from '../native/addon-types.js';
import type { Checkpoint } from './checkpoint.js';
import type { ModelConfig } from './config.js';
import { toInt32Array } from './lifecycle.js';
import { computeRope } from './rope.js';
import type { TextTokenizer } from './tokenizer.js';

export interface RuntimeOptions {
  /** Byte budget of the KV page pool. */
  kvCacheBytes: number;
  /** Tokens per KV page. */
  pageTokens: number;
  threads: number;
  precision: PrecisionName;
  /** Kernel variant; omitted = the best the host supports. */
  isa?: IsaName;
}

/** Throws a TypeError naming the first invalid runtime option. */
export function checkRuntime(o: RuntimeOptions): void {
  const positiveInt = (name: string, v: number) => {
    if (!Number.isSafeInteger(v) || v <= 0) throw new TypeError(`Expected \`${name}\` to be a positive integer, got ${v}`);
  };
  positiveInt('kvCacheBytes', o.kvCacheBytes);
  positiveInt('pageTokens', o.pageTokens);
  positiveInt('threads', o.threads);
  if (o.precision !== 'f32' && o.precision !== 'bf16') {
    throw new TypeError(`Expected \`precision\` to be 'f32' or 'bf16', got ${String(o.precision)}`);
  }
}

export function buildNativeSpec(
  config: ModelConfig,
  checkpoint: Checkpoint,
  tokenizer: TextTokenizer,
  runtime: RuntimeOptions,
  /** Omitted: the vocabulary logits (`{ kind: 'lm' }`). */
  head?: NativeHeadSpec,
): NativeModelSpec {
  checkRuntime(runtime);
  const rope = computeRope({ headDim: config.headDim, theta: config.ropeTheta, scaling: config.ropeScaling });
  const { bytes, offsets } = tokenizer.tokenBytes();
  const spec: NativeModelSpec = {
    files: [...checkpoint.files],
    tensors: checkpoint.tensors,
    hiddenSize: config.hiddenSize,
    intermediateSize: config.intermediateSize,
    numLayers: config.numLayers,
    numHeads: config.numHeads,
    numKvHeads: config.numKvHeads,
    headDim: config.headDim,
    vocabSize: config.vocabSize,
    rmsNormEps: config.rmsNormEps,
    ropeInvFreq: rope.invFreq,
    ropeAttentionScaling: rope.attentionScaling,
    slidingWindow: toInt32Array('slidingWindow', config.slidingWindow, 0),
    attentionBias: config.attentionBias,
    tieWordEmbeddings: config.tieWordEmbeddings,
    kvCacheBytes: runtime.kvCacheBytes,
    pageTokens: runtime.pageTokens,
    threads: runtime.threads,
    precision: runtime.precision,
    tokenBytes: bytes,
    tokenOffsets: offsets,
    eosTokenIds: toInt32Array('eosTokenIds', tokenizer.eosTokenIds, 0),
  };
  if (runtime.isa !== undefined) spec.isa = runtime.isa;
  if (head !== undefined) spec.head = head;
  return spec;
}
