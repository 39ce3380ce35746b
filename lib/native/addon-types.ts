/**
 * The only description of the native addon's product surface (native/addon/*.cc): models, sequences,
 * generation, the CPU's features and the CUDA library probe. Everything the product path calls in
 * native code is typed here. The test surface (kernels on typed arrays and CUDA sessions, for parity
 * tests and benchmarks: native/addon/testing/) is described in kernel-types.ts; nothing else declares
 * native shapes.
 *
 * Conventions: token ids are Int32Array; buffers crossing the boundary are typed arrays, never plain
 * arrays of numbers; heavy calls return promises and run off the JS thread.
 */

/** A native sequence handle. Branded so it cannot be mixed up with token ids or counts. */
export type SeqId = number & { readonly __seq: never };

export type IsaName = 'scalar' | 'avx2' | 'avx512' | 'avx512bf16';
/** The block quantizations (ggml's layouts: native/kernels/common/quant_blocks.h). */
export type QuantDTypeName = 'Q8_0' | 'Q4_0' | 'Q4_K' | 'Q6_K';
export type DTypeName = 'F32' | 'F16' | 'BF16' | QuantDTypeName;
export type PrecisionName = 'f32' | 'bf16';

export interface CpuInfo {
  avx2: boolean;
  avx512: boolean;
  avx512bf16: boolean;
  /** vpdpbusd: the packed quantized kernel of avx512 / avx512bf16 (elsewhere the AVX2 one runs). */
  avx512vnni: boolean;
  /** The variant the kernels use by default on this host. */
  bestIsa: IsaName;
}

/** One tensor of a checkpoint, located inside one of the spec's files. */
export interface NativeTensorSpec {
  /** Hugging Face name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string;
  /** Index into NativeModelSpec.files. */
  file: number;
  /**
   * Element type. A quantized tensor is 2-D with its last dimension a multiple of the block (32 for
   * Q8_0/Q4_0, 256 for Q4_K/Q6_K) and byteLength = rows × (cols / block) × block bytes; only the
   * layer matrices, the embedding and lm_head may be quantized.
   */
  dtype: DTypeName;
  shape: number[];
  /** Absolute byte offset of the tensor's data in its file (8 + header length + data_offsets[0]). */
  offset: number;
  byteLength: number;
}

/**
 * What the model computes on top of the final hidden state, for the rows a forward asks for.
 * - `lm`: the full vocabulary logits (lm_head, or the embedding when tied).
 * - `lm-rows`: only the given rows of lm_head (token-pair PRMs such as Math-Shepherd read two logits).
 * - `mlp2`: Qwen2.5-Math-PRM's head: `${prefix}.0` Linear(h, h) + bias → ReLU → `${prefix}.2` Linear(h, outputs) + bias.
 * - `linear`: a value head `${prefix}.weight` [outputs, h] (+ `${prefix}.bias` when `bias`).
 * Output row width: vocabSize, tokenIds.length, or `outputs`.
 */
export type NativeHeadSpec =
  | { kind: 'lm' }
  | { kind: 'lm-rows'; tokenIds: Int32Array }
  | { kind: 'mlp2'; prefix: string; outputs: number }
  | { kind: 'linear'; prefix: string; outputs: number; bias: boolean };

/**
 * Everything native code needs to build a decoder-only transformer (Llama / Qwen2 / Mistral math).
 * The TypeScript loader has already validated names, shapes and dtypes against config.json; native
 * code re-checks only what protects memory (offsets inside the file, byte lengths).
 */
export interface NativeModelSpec {
  files: string[];
  tensors: NativeTensorSpec[];
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** Rows of the embedding matrix (may exceed the tokenizer's vocabulary: Qwen2.5 pads to 151936). */
  vocabSize: number;
  rmsNormEps: number;
  /** [headDim / 2] inverse frequencies with any rope_scaling (linear, llama3) already applied. */
  ropeInvFreq: Float32Array;
  /** Multiplies cos and sin; 1 for default, linear and llama3 scaling. */
  ropeAttentionScaling: number;
  /**
   * The q/k projection rows hold each head's rotary pairs adjacent, (2i, 2i + 1), as llama.cpp's
   * converter permutes them for GGUF arch `llama`; RoPE reads them there and writes the rotate-half
   * layout, so everything after RoPE is as with Hugging Face weights. @default false
   */
  ropeInterleaved?: boolean;
  /** [numLayers] sliding-window length per layer; 0 means full causal attention. */
  slidingWindow: Int32Array;
  /** q/k/v projections carry biases (Qwen2). */
  attentionBias: boolean;
  /** lm_head shares the embedding matrix (no `lm_head.weight` tensor). */
  tieWordEmbeddings: boolean;
  /** Byte budget of the KV page pool, allocated once at load. */
  kvCacheBytes: number;
  /** Tokens per KV page. */
  pageTokens: number;
  /**
   * Automatic prefix caching: full KV pages are kept under the hash of their token prefix, and a
   * sequence whose tokens start with a cached prefix reuses those pages instead of recomputing them.
   * @default true
   */
  prefixCache?: boolean;
  /**
   * Read the weights in place from mapped files (true) or copy them into private memory at load
   * (false). Mapped files are checked before every batch; one that changed is refused (WEIGHTS_CHANGED).
   * @default true
   */
  mmap?: boolean;
  threads: number;
  precision: PrecisionName;
  /** Kernel variant; omitted means the best the host supports. */
  isa?: IsaName;
  /** Bytes of every token id, concatenated: token t is tokenBytes[tokenOffsets[t] .. tokenOffsets[t+1]). */
  tokenBytes: Uint8Array;
  /** [tokenizer vocabulary + 1] offsets into tokenBytes. */
  tokenOffsets: Uint32Array;
  /** Token ids that end a generation. */
  eosTokenIds: Int32Array;
  /** @default { kind: 'lm' } */
  head?: NativeHeadSpec;
  /**
   * Quantize on load: the layer matrices (q/k/v/o, gate/up/down), the embedding and an untied lm_head
   * are quantized to this type at load into memory the model owns. A matrix whose input width is not
   * a multiple of the type's block falls back: Q4_K → Q4_0, Q6_K → Q8_0 (the 32-element types);
   * below 32 it stays as stored. Norms, biases and the PRM heads (mlp2, linear, lm-rows) keep their
   * precision. Omitted: weights are used as stored.
   */
  quantize?: QuantDTypeName;
  /**
   * Run on a CUDA device: the backend library (libthinktree_cuda.so) and the device index. Weights, KV
   * storage (bf16, or f32 at precision 'f32') and the forward pass then live on the device; page and
   * sequence bookkeeping stay on the host. Omitted: the CPU.
   */
  device?: { libraryPath: string; index: number };
}

export interface NativeModelInfo {
  isa: IsaName;
  precision: PrecisionName;
  threads: number;
  pageTokens: number;
  pagesTotal: number;
  /** Whether automatic prefix caching of full KV pages is on (NativeModelSpec.prefixCache). */
  prefixCache: boolean;
  /** Bytes one page takes across all layers (K and V). */
  bytesPerPage: number;
  /** Bytes of weights the forward reads: mapped from the checkpoint files, or quantized on load (NativeModelSpec.quantize). */
  weightBytes: number;
  /** Floats per output row of forward() (vocabSize for an `lm` head). */
  outputWidth: number;
  /**
   * CPU models: bytes of weights each GEMM call of a one-row decode step reads, in the order they run
   * (per layer q/k/v, o, gate/up and down, where packed weights fuse q/k/v and gate/up into one call
   * each, else one call per matrix; then the head). With a tied LM head they sum to `weightBytes` less
   * the norms and biases.
   */
  stepGemmBytes?: number[];
  /** Where the forward pass runs. */
  device: 'cpu' | 'cuda';
  /** The CUDA device's name (present when device is 'cuda'). */
  deviceName?: string;
}

/**
 * KV page accounting: `pagesFree + pagesInUse === pagesTotal`. With the prefix cache on, a page whose
 * last owner released it but whose content is cached stays findable by a later sequence with the same
 * token prefix until an allocation needs it (least recently released first): such a page has no
 * owner, so it counts in `pagesFree` (it is allocatable), and `pagesCached` says how many of the free
 * pages are of this kind. After every sequence is released `pagesInUse` is 0, cache or not.
 */
export interface KvStats {
  pageTokens: number;
  pagesTotal: number;
  /** Pages an allocation can take: free ones and cached ones with no owner (evicted when taken). */
  pagesFree: number;
  /** Pages owned by at least one sequence. */
  pagesInUse: number;
  /** Free pages that still hold a cached prefix (a subset of `pagesFree`); 0 with the cache off. */
  pagesCached: number;
  /** Live sequences. */
  sequences: number;
  /** Tokens the forward pass has run since load (every pending token of every batch). */
  tokensComputed: number;
  /**
   * Pending tokens of sequences that looked up the prefix cache since load (forward 'last' and
   * generateStep; a forward 'all' wants every row, so it never skips tokens). 0 with the cache off.
   */
  prefixQueryTokens: number;
  /** Of those, tokens a cache hit let the forward skip (whole pages; the last token always runs). */
  prefixHitTokens: number;
}

/** Per-sequence sampling parameters, one entry per sequence of the call. */
export interface NativeSamplingArrays {
  /** 0 means greedy. */
  temperature: Float32Array;
  /** 0 means no top-k filter. */
  topK: Int32Array;
  /** 1 means no top-p filter. */
  topP: Float32Array;
  /** 0 means no min-p filter. */
  minP: Float32Array;
}

export interface NativeGenerateStepRequest extends NativeSamplingArrays {
  seqs: Int32Array;
  /** Per sequence: the most tokens this step may generate. */
  maxTokens: Int32Array;
  /** Stop strings as UTF-8 bytes; a step ends when its generated bytes contain one (kept in the output). */
  stop: Uint8Array[];
  /** Whether EOS tokens end the step (they are kept in the output tokens, not in the text). */
  stopAtEos: boolean;
  /** What cancelCall() names to stop this call between tokens (a positive int32 no call in flight uses). */
  cancelId?: number;
}

/** Why a sequence's step ended. */
export const enum FinishCode {
  Stop = 0,
  Eos = 1,
  Length = 2,
}

export interface NativeGenerateStepResult {
  /** Generated tokens of all sequences, concatenated in request order. */
  tokens: Int32Array;
  /** [seqs] how many tokens each sequence generated. */
  tokenCounts: Int32Array;
  /** Log-probability of each generated token under the model's unfiltered distribution (temperature 1). */
  logprobs: Float32Array;
  /** [seqs] FinishCode per sequence. */
  finish: Uint8Array;
}

/** Operation classes of a forward pass and a decode step, as native/runtime/profile.h times them. */
export type ProfileOp =
  | 'gemmQkv'
  | 'gemmO'
  | 'gemmGateUp'
  | 'gemmDown'
  | 'attention'
  | 'kvWrite'
  | 'elementwise'
  | 'head'
  | 'sample'
  | 'stopCheck';

/**
 * Where native time went since setProfiling(true), in nanoseconds. Each class excludes the time the
 * calling thread waited for other workers inside it; that waiting is `poolWaitNs`. `callNs` is the
 * wall time of whole native calls (forward, generateStep), so callNs − Σ opNs − poolWaitNs is the
 * native bookkeeping between operations (page checks, chunk building, prefix cache).
 */
export interface NativeProfile {
  enabled: boolean;
  opNs: Record<ProfileOp, number>;
  opCalls: Record<ProfileOp, number>;
  poolWaitNs: number;
  callNs: number;
  /** Batched forward passes (one per decode step). */
  steps: number;
}

/**
 * A loaded model with its KV page pool. A sequence is a list of tokens; those not yet run through
 * the model are pending, and the next forward or generateStep that includes the sequence runs them.
 * After generateStep, the last generated token is pending (its KV is computed when it is next used),
 * so fork() followed by generateStep on each child needs no extra work.
 */
export interface NativeModel {
  info(): NativeModelInfo;
  kvStats(): KvStats;
  /** Clears the per-operation timings and starts (true) or stops (false) collecting them (CPU executor). */
  setProfiling(on: boolean): void;
  /** The per-operation timings collected since setProfiling(true). */
  profile(): NativeProfile;
  /** A new empty sequence whose sampler is seeded with `seed` (an integer in [0, 2^53)). */
  createSequence(seed: number): SeqId;
  /**
   * A child sharing all of the parent's KV pages (copy-on-write for a partly filled last page) and
   * its pending tokens. Seed omitted: derived from the parent's seed and its fork count.
   */
  fork(seq: SeqId, seed?: number): SeqId;
  /** One child per entry of `parents` (repeat a parent to fork it several times). */
  forkMany(parents: Int32Array): Int32Array;
  /** Drops the sequence; pages whose last owner it was return to the pool. */
  release(seq: SeqId): void;
  releaseMany(seqs: Int32Array): void;
  /** Tokens in the sequence, pending ones included. */
  sequenceLength(seq: SeqId): number;
  /** Copy of the sequence's tokens. */
  sequenceTokens(seq: SeqId): Int32Array;
  /**
   * Drops the tokens at positions ≥ `length` (KV and pending alike): pages no longer needed are
   * released; a shared, partly kept page stays shared until the next write copies it.
   */
  truncate(seq: SeqId, length: number): void;
  /** Appends tokens (validated against the vocabulary) as pending; no compute. */
  appendTokens(seq: SeqId, tokens: Int32Array): void;
  /**
   * Runs the pending tokens of `seqs` in one ragged batch. `logits: 'last'` returns one row per
   * sequence (the logits after its last token, which must be pending); `'all'` returns a row for every
   * pending token, sequences in request order. Rows are [outputWidth] floats (the head's outputs;
   * vocabulary logits for an `lm` head), row-major.
   */
  forward(seqs: Int32Array, logits: 'last' | 'all', cancelId?: number): Promise<Float32Array>;
  /**
   * Decodes all `seqs` together until each hits a stop string, EOS or its token limit. A call stopped
   * between tokens (dispose: code 'DISPOSED'; cancelCall: 'ABORTED'; a changed weights file:
   * 'WEIGHTS_CHANGED') rolls every sequence back and rejects with an error whose `steps` says how many
   * tokens it had generated.
   */
  generateStep(req: NativeGenerateStepRequest): Promise<NativeGenerateStepResult>;
  /**
   * Frees the pool and unmaps the weights, without waiting: a call in flight stops at its next token
   * or chunk and rejects with code 'DISPOSED' (its worker frees the memory). Safe to call twice; later
   * calls on the object throw.
   */
  dispose(): void;
}


/** One CUDA device as the backend library sees it. */
export interface CudaDeviceInfo {
  index: number;
  name: string;
  /** e.g. '9.0' */
  computeCapability: string;
  totalMemoryBytes: number;
  freeMemoryBytes: number;
  multiprocessors: number;
  /** Whether the library carries code for this device (compute capability 8.0 or newer). */
  supported: boolean;
  unsupportedReason?: string;
}

/** What probing a CUDA backend library found. Never thrown: a missing driver is `available: false`. */
export interface CudaProbeResult {
  libraryPath: string;
  /** A usable device exists (driver new enough, at least one supported GPU). */
  available: boolean;
  /** Why not, when `available` is false: a sentence naming what to do. */
  reason?: string;
  /** CUDA version the driver supports, 1000 × major + 10 × minor (absent when the library did not load). */
  driverVersion?: number;
  /** CUDA runtime version linked into the library. */
  runtimeVersion?: number;
  devices: CudaDeviceInfo[];
}


/**
 * The CUDA backend as the CPU addon reaches it: a library loaded at run time from a path. (Its
 * `open`, a session running single kernels, is test surface: kernel-types.ts.)
 */
export interface NativeCuda {
  /** THINKTREE_CUDA_ABI_VERSION this addon was built with; a library must report the same. */
  abiVersion: number;
  probe(libPath: string): CudaProbeResult;
}

/** addon.kernels as the product sees it. (The kernels on typed arrays there are test surface: kernel-types.ts.) */
export interface NativeCpu {
  cpuInfo(): CpuInfo;
}

export interface NativeAddon {
  kernels: NativeCpu;
  /** The CUDA backend library, loaded at run time (never linked into the addon). */
  cuda: NativeCuda;
  /**
   * Maps (or reads) the weights, allocates the KV pool; `onProgress` receives fractions in [0, 1].
   * Non-regular weight files (a FIFO, a device) are refused without being opened for a blocking read.
   */
  loadModel(spec: NativeModelSpec, onProgress?: (fraction: number) => void, cancelId?: number): Promise<NativeModel>;
  /**
   * Stops the call in flight that was given `cancelId` (loadModel, forward, generateStep) at its next
   * read, chunk or token; it rejects with code 'ABORTED'. False when no such call is in flight.
   */
  cancelCall(cancelId: number): boolean;
  /** Stops every call in flight and every later one (the process is exiting). */
  cancelAll(): void;
  /** [rows, cols] floats to `type` blocks: rows × (cols / block) × block bytes (cols a multiple of the block). */
  quantize(type: QuantDTypeName, data: Float32Array, rows: number, cols: number): Uint8Array;
  /** `type` blocks back to [rows, cols] floats, by ggml's definition of the type. */
  dequantize(type: QuantDTypeName, bytes: Uint8Array, rows: number, cols: number): Float32Array;
}
