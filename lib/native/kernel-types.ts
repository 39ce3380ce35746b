/**
 * The test surface of the native addon (native/addon/testing/): the kernels on typed arrays, CPU
 * (`addon.kernels`) and GPU (`addon.cuda.open` sessions), for parity tests and benchmarks. Users never
 * call these; the product surface is addon-types.ts.
 */
import type { DTypeName, IsaName, NativeCpu, NativeCuda, NativeSamplingArrays, PrecisionName } from './addon-types.js';

export interface GemmArgs {
  /** [m, k] row-major activations. */
  x: Float32Array;
  /**
   * [n, k] row-major weights: Float32Array for F32, Uint16Array (raw bits) for F16/BF16, Uint8Array of
   * n block rows for the quantized types (k a multiple of their block).
   */
  w: Float32Array | Uint16Array | Uint8Array;
  wDtype: DTypeName;
  /**
   * Q8_0, Q4_0, Q4_K and Q6_K: hand the kernel W repacked as a CPU model holds it (packed_weights.h), so
   * a packed kernel runs: AVX-512 VNNI's for isa 'avx512' or 'avx512bf16' on a CPU with avx512vnni, AVX2's
   * for 'avx2' (and for 'avx512' without VNNI); at isa 'scalar' the rows as given are used.
   */
  packed?: boolean;
  /** [n] or omitted. */
  bias?: Float32Array;
  m: number;
  n: number;
  k: number;
  precision: PrecisionName;
  isa: IsaName;
  threads: number;
}

export interface RmsNormArgs {
  /** [rows, dim] */
  x: Float32Array;
  /** [dim] as Float32Array (F32) or Uint16Array bits (F16/BF16). */
  weight: Float32Array | Uint16Array;
  wDtype: DTypeName;
  rows: number;
  dim: number;
  eps: number;
}

export interface QuantizeActsArgs {
  /** [rows, k] */
  x: Float32Array;
  rows: number;
  k: number;
  isa: IsaName;
  /** Values per scale: 32 (the default), or 256 as for Q4_K weights. */
  block?: 32 | 256;
}

export interface QuantizedActs {
  /** [rows, k] round(x / d) per block, in [-127, 127] */
  q: Int8Array;
  /** [rows, k / block] max |x| / 127 per block */
  d: Float32Array;
  /** [rows, k / 16] Σ q per 16 */
  sum16: Int16Array;
}

export interface RopeArgs {
  /** [tokens, heads, headDim], rotated in a copy that is returned. */
  x: Float32Array;
  tokens: number;
  heads: number;
  headDim: number;
  /** [tokens] */
  positions: Int32Array;
  /** [headDim / 2] */
  invFreq: Float32Array;
  attentionScaling: number;
  /**
   * Input pairs at (2i, 2i + 1) (the Q/K row order of GGUF `llama` files), written back rotated in the
   * rotate-half order (i, i + headDim/2). @default false
   */
  interleaved?: boolean;
}

export interface SampleArgs extends NativeSamplingArrays {
  /** [rows, vocab] raw logits. */
  logits: Float32Array;
  rows: number;
  vocab: number;
  /** [rows] seeds (integers below 2^53 as doubles). */
  seeds: Float64Array;
  /** [rows] draw counters: the counter-based generator's position for each row. */
  counters: Uint32Array;
  /** Variant of the row loops (tests compare them); omitted means the best the host supports. */
  isa?: IsaName;
}

/** Paged attention over one layer's KV, on typed arrays (tests and benchmarks). */
export interface AttentionArgs {
  /** [tokens, numHeads, headDim] queries, already rotated. */
  q: Float32Array;
  /** [pages, pageTokens, numKvHeads, headDim] keys and values of the pool. */
  kPages: Float32Array;
  /** Levels of the page tree read in shared passes (1: only pages every sequence of a group shares). @default 0 (all) */
  cascadeLevels?: number;
  /** How the pages are stored: 'bf16' rounds kPages/vPages to bf16 first, as bf16 mode's KV cache does. @default 'f32' */
  kvDtype?: 'f32' | 'bf16';
  vPages: Float32Array;
  pageTokens: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** [seqs + 1] CSR offsets into pageIndices. */
  pageIndptr: Int32Array;
  pageIndices: Int32Array;
  /** [seqs] tokens in each sequence's KV (the queries' own keys included). */
  seqLens: Int32Array;
  /** [seqs + 1] offsets of each sequence's queries in q (the last queries of the sequence). */
  queryIndptr: Int32Array;
  /** 0 = full causal attention. */
  slidingWindow: number;
  /** Use the shared-prefix split (cascade) where sequences share pages; false = per-sequence. */
  sharedPrefix: boolean;
  threads: number;
  /** Kernel variant to run (tests force each one the host supports). @default the best the CPU has */
  isa?: IsaName;
}

/** addon.kernels: cpuInfo() (product surface, NativeCpu) and the kernels on typed arrays. */
export interface NativeKernels extends NativeCpu {
  /** y[m, n] = x · wᵀ (+ bias). */
  gemm(args: GemmArgs): Float32Array;
  rmsNorm(args: RmsNormArgs): Float32Array;
  rope(args: RopeArgs): Float32Array;
  /** out = silu(gate) * up, elementwise. */
  swiglu(gate: Float32Array, up: Float32Array): Float32Array;
  /**
   * The int8 activation blocks a GEMM call on quantized weights makes of x ([rows, k], k a multiple of
   * 32), from `isa`'s quantizer: values, one scale per 32 and one sum per 16.
   */
  quantizeActs(args: QuantizeActsArgs): QuantizedActs;
  /** One sampled token id per row. */
  sample(args: SampleArgs): Int32Array;
  /** Tests only: where the process-wide sequence id counter continues (its wrap at 2^31 − 1). */
  setNextSequenceIdForTesting(next: number): void;
  /** [tokens, numHeads, headDim] attention output. */
  attention(args: AttentionArgs): Float32Array;
  /**
   * The work plan attention(args) runs (the shared-prefix cascade): items as [tableSeq, kvHead,
   * keyBegin, keyEnd, rowsBegin, rowsEnd] sextuples, the query rows of every item, and the number of
   * leading shared-pass items.
   */
  attentionPlan(args: AttentionArgs): { items: Int32Array; itemRows: Int32Array; sharedItems: number };
  /**
   * Measured peak of fused multiply-add throughput in GFLOP/s ('f32' FMA, or 'bf16' dot where the CPU
   * has it), with the widest vectors up to `widest` (default: the host's best ISA; 'avx2' measures the
   * ymm peak the AVX2 kernels run against, also on an AVX-512 host).
   */
  benchFmaPeak(precision: PrecisionName, threads: number, widest?: IsaName): number;
  /** Measured read bandwidth in GB/s streaming a buffer of `bytes`. */
  benchReadBandwidth(bytes: number, threads: number): number;
  /**
   * The read bandwidth (GB/s) of a call pattern against one long read of the same bytes, pass by pass
   * in turn: call i reads `callBytes[i]` bytes in one parallel region, each thread a slice, as a decode
   * step's GEMM calls read their matrices (NativeModelInfo.stepGemmBytes). Each mode runs its two read
   * loops for at least `seconds` / 4 each (default 1 s in all) on a huge-page buffer.
   */
  benchReadCalls(callBytes: number[], threads: number, seconds?: number): { wholeGBps: number; callsGBps: number };
  /** Seconds per call of gemm(args) averaged over `iterations` (weights and inputs made once). */
  benchGemm(args: GemmArgs, iterations: number): number;
  /** Seconds per call of attention(args) averaged over `iterations`. */
  benchAttention(args: AttentionArgs, iterations: number): number;
}

/** AttentionArgs on the GPU: head_dim 16, 32, 64, 128 or 256; `threads` is ignored; pages may go up as bf16. */
export interface CudaAttentionArgs extends Omit<AttentionArgs, 'threads' | 'kvDtype' | 'cascadeLevels'> {
  threads?: number;
  /** Element type of the KV pages on the device (the f32 arrays are rounded on upload). @default 'F32' */
  kvDtype?: 'F32' | 'BF16';
}

/** A reward head on final-normed hidden states (runtime/head.cc's kinds; lm-rows is `linear` over gathered rows). */
export interface CudaRewardHeadArgs {
  kind: 'linear' | 'mlp2';
  /** [rows, hidden] */
  x: Float32Array;
  rows: number;
  hidden: number;
  outputs: number;
  /** linear: [outputs, hidden]; mlp2: [hidden, hidden]. Float32Array for F32, Uint16Array bits otherwise. */
  first: Float32Array | Uint16Array;
  /** [outputs] (linear) or [hidden] (mlp2) */
  firstBias?: Float32Array;
  /** mlp2 only: [outputs, hidden] */
  second?: Float32Array | Uint16Array;
  /** mlp2 only: [outputs] */
  secondBias?: Float32Array;
  wDtype: DTypeName;
  precision: PrecisionName;
}

/** Copy-on-write page copies over a whole KV pool [layers, 2, pagesTotal, pageTokens, kvHeads, headDim]. */
export interface CudaKvCopyArgs {
  pool: Float32Array;
  layers: number;
  pagesTotal: number;
  pageTokens: number;
  kvHeads: number;
  headDim: number;
  /** [copies] source pages, destination pages, and leading tokens of each to copy. */
  src: Int32Array;
  dst: Int32Array;
  tokens: Int32Array;
}

/** New keys and values into page slots of one layer's pages [pages, pageTokens, kvDim]. */
export interface CudaKvWriteArgs {
  /** [slots.length, kvDim] rows to write. */
  k: Float32Array;
  v: Float32Array;
  kvDim: number;
  pages: number;
  pageTokens: number;
  /** [rows] page * pageTokens + slot of each row. */
  slots: Int32Array;
  kvDtype: 'F32' | 'BF16';
}

/**
 * A context on one GPU with the CUDA twins of the CPU kernels. Each call uploads its typed arrays,
 * runs the kernel and downloads the result, synchronously: for parity tests and benchmarks.
 */
export interface CudaSession {
  gemm(args: Omit<GemmArgs, 'isa' | 'threads'>): Float32Array;
  rmsNorm(args: RmsNormArgs): Float32Array;
  rope(args: RopeArgs): Float32Array;
  swiglu(gate: Float32Array, up: Float32Array): Float32Array;
  attention(args: CudaAttentionArgs): Float32Array;
  sample(args: Omit<SampleArgs, 'isa'>): Int32Array;
  rewardHead(args: CudaRewardHeadArgs): Float32Array;
  /** The pool after the copies. */
  kvCopy(args: CudaKvCopyArgs): Float32Array;
  /** Embedding lookup: [tokens.length, dim] f32 rows of `table` ([vocab, dim] in `dtype`, F16/BF16 as bits). */
  /** `table`: Float32Array (F32), Uint16Array bits (F16/BF16) or Uint8Array of whole block rows (quantized). */
  embed(table: Float32Array | Uint16Array | Uint8Array, dtype: DTypeName, dim: number, tokens: Int32Array): Float32Array;
  /** x + y elementwise (the residual add). */
  add(x: Float32Array, y: Float32Array): Float32Array;
  /** Rows `rows` of src ([?, dim]): [rows.length, dim]. */
  gatherRows(src: Float32Array, dim: number, rows: Int32Array): Float32Array;
  /** Zeroed pages with each row's K and V written into its slot (bf16 pages come back upcast to f32). */
  kvWrite(args: CudaKvWriteArgs): { kPages: Float32Array; vPages: Float32Array };
  /** log softmax(row r of logits [tokens.length, vocab])[tokens[r]]; NaN for a NaN row or an id outside the vocabulary. */
  tokenLogprob(logits: Float32Array, vocab: number, tokens: Int32Array): Float32Array;
  /** Measured device-to-device copy bandwidth in GB/s (read + write) over a buffer of `bytes`. */
  benchCopyBandwidth(bytes: number, iterations: number): number;
  /** Seconds per attention call (inputs uploaded once), timed on the GPU. */
  benchAttention(args: CudaAttentionArgs, iterations: number): number;
  /** Seconds per sampling call (inputs uploaded once), timed on the GPU. */
  benchSample(args: Omit<SampleArgs, 'isa'>, iterations: number): number;
  /** Frees the context. Safe to call twice; later calls throw. */
  dispose(): void;
}

/** addon.cuda with its test surface: sessions on one device. */
export interface NativeCudaSessions extends NativeCuda {
  /** Throws when the library does not load, has another ABI, or the device cannot be opened. */
  open(libPath: string, device: number): CudaSession;
}
