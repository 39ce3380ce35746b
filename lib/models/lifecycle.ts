/**
 * What the policy (model.ts) and the PRM (prm/prm.ts) share from load to dispose: the load options and
 * their checks, the load itself (device choice, prepare, native load, abort checks, identity), and the
 * handle that owns the native model (one call at a time, liveness, dispose, DisposedError).
 */
import { createHash } from 'node:crypto';
import { closeSync, constants as fsConstants, openSync, readSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { guardCallback } from '../util/callbacks.js';
import { DisposedError, OptionError, abortError, toPublicError, translateNativeError } from '../errors.js';
import { isNativeAbort, withCancel } from '../native/cancel.js';
import type { KvStats, NativeModel, NativeModelInfo, NativeModelSpec, PrecisionName, SeqId } from '../native/addon-types.js';
import { chooseDevice, type DeviceChoice } from '../native/cuda.js';
import { nativeAddon } from '../native/load.js';
import { SerialQueue } from '../util/mutex.js';
import { checkOptionKeys, describeValue, optionKeys } from '../util/options.js';
import { checkQuantType, quantDTypeName, type QuantType } from './quant/index.js';

export type Device = 'auto' | 'cpu' | 'cuda';

export interface LoadModelOptions {
  /**
   * Where the model runs. `'auto'` uses a usable GPU (a CUDA driver, a supported device and the CUDA
   * backend library) and the CPU otherwise (`info.deviceReason` says why); `'cuda'` without a usable
   * GPU throws DeviceUnavailableError naming the reason. On the GPU the weights, the KV cache and the
   * forward pass live on the device; `kvCacheBytes` is then device memory. @default 'auto'
   */
  device?: Device;
  /**
   * GEMM input precision. `'f32'` keeps activations in f32 (matches an f32 reference); `'bf16'` rounds
   * GEMM inputs to bf16 for the AVX-512 BF16 dot product or the GPU's tensor cores, and on the GPU
   * also stores the KV cache in bf16 (`'f32'` keeps it f32 there).
   * @default 'bf16' on the GPU; on the CPU the fastest mode it supports
   */
  precision?: PrecisionName;
  /**
   * Quantize the weights at load, into memory the model owns (the checkpoint's files stay as they
   * are): the layer matrices (q/k/v/o, gate/up/down), the embedding and an untied lm_head, with
   * ggml's block formats. 'q8_0' is about half of BF16's bytes and close to it in logits; 'q4_k' about
   * 0.28×; a matrix whose input width is not a multiple of 256 takes 'q4_0' (for 'q4_k') or 'q8_0'
   * (for 'q6_k') instead. Norms, biases and PRM heads keep their precision. CPU and CUDA.
   * @default the checkpoint's dtype
   */
  weights?: QuantType;
  /** Worker threads for the native kernels. @default os.availableParallelism() */
  threads?: number;
  /** Byte budget of the KV page pool, allocated once at load. @default 256 MiB */
  kvCacheBytes?: number;
  /** Tokens per KV page. @default 16 */
  pageTokens?: number;
  /**
   * Automatic prefix caching (as vLLM's): full KV pages are kept under the hash of their token prefix,
   * so a sequence that starts with tokens another one has already run (a resubmitted prompt, a shared
   * system prompt or question) reuses those pages and computes only the rest. A released page whose
   * prefix is cached stays reusable until the pool needs it (least recently used first); `kvStats()`
   * counts it in `pagesFree` and in `pagesCached`. A hit reads exactly the K/V its prefix was given when
   * first computed, so outputs are what computing that prefix first and the rest after gives: equal to
   * a whole-prompt prefill up to float rounding (the CPU kernels are not batch-invariant, as with any
   * incremental prefill). `false` turns the cache off (to compare the two). @default true
   */
  prefixCache?: boolean;
  /**
   * How the weights are held, as llama.cpp's mmap / --no-mmap. `true`: the safetensors files are
   * mapped and read in place (no copy, pages shared with the OS cache and other processes). The files
   * must then stay as they are while the model is loaded: each forward first checks every file's size
   * and modification time, and a changed file (truncated, rewritten in place) makes the call and every
   * later one fail with WeightsChangedError naming it; a file truncated *during* a forward can still
   * kill the process (SIGBUS), since reads from a mapping cannot be checked one by one. A file
   * replaced by a new one (a rename over the path) is harmless: the old one stays mapped. `false`: the
   * files are read into private memory at load (their size in RAM, a slower load) and nothing done to
   * them afterwards reaches the model. @default true
   */
  mmap?: boolean;
  /** Load progress in [0, 1]. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/** The runtime numbers of a load, defaults applied. */
export interface RuntimeChoice {
  threads: number;
  kvCacheBytes: number;
  pageTokens: number;
}

/** What a loaded model reports: the native runtime's numbers, where it runs and why, and what was loaded. */
export interface LoadedInfo extends NativeModelInfo {
  /** Why this device was chosen (e.g. no usable GPU, and the reason). */
  deviceReason: string;
  /** Identifies the checkpoint: directory name and a hash of its tensor layout and sampled weight bytes (checkpointIdentity). */
  id: string;
  /** Parameters in the checkpoint's tensors the model uses (tied matrices counted once). */
  paramCount: number;
}

export function checkInt(name: string, v: unknown, lo: number, hi = Number.MAX_SAFE_INTEGER): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new OptionError(`Expected \`${name}\` to be an integer in [${lo}, ${hi}], got ${describeValue(v)}`);
  }
}

/** The largest value an Int32Array entry (and a native int32_t) holds; larger numbers would wrap. */
export const INT32_MAX = 2 ** 31 - 1;

/**
 * `values` as an Int32Array, each checked to be an integer in [lo, INT32_MAX] first: `Int32Array.from`
 * alone wraps 2^32 + 1 to 1 and turns `undefined` or NaN into 0, silently.
 */
export function toInt32Array(name: string, values: ArrayLike<number>, lo = -INT32_MAX - 1): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    checkInt(`${name}[${i}]`, values[i], lo, INT32_MAX);
    out[i] = values[i]!;
  }
  return out;
}

/**
 * Sequence ids of `call` as an Int32Array, each checked first: `Int32Array.from` turns `undefined` and
 * NaN into 0 and wraps 2^32 + s to s, which used to act on another sequence. Ids are positive int32s
 * (unique in the process); whether one belongs to this model the native side checks.
 */
export function toSeqIds(call: string, seqs: readonly SeqId[]): Int32Array {
  if (!Array.isArray(seqs)) throw new OptionError(`${call}: expected an array of sequences, got ${String(seqs)}`);
  const out = new Int32Array(seqs.length);
  for (let i = 0; i < seqs.length; i++) {
    const v: unknown = seqs[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > INT32_MAX) {
      throw new OptionError(`${call}: element ${i} is not a sequence of this model: ${String(v)}`);
    }
    out[i] = v;
  }
  return out;
}

/** Checks one sequence id given to `call` (see toSeqIds). */
export function checkSeq(call: string, seq: SeqId): void {
  const v: unknown = seq;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > INT32_MAX) {
    throw new OptionError(`${call}: not a sequence of this model: ${String(v)}`);
  }
}

/** Every key loadModel takes (the compiler checks the list against LoadModelOptions). */
export const LOAD_MODEL_OPTION_KEYS = optionKeys<LoadModelOptions>()([
  'device',
  'precision',
  'weights',
  'threads',
  'kvCacheBytes',
  'pageTokens',
  'prefixCache',
  'mmap',
  'onProgress',
  'signal',
]);

/**
 * Checks the options every load takes (no file is read); returns the runtime numbers with defaults applied.
 * `keys` and `where` name the options object's keys and the function for unknown-key errors (the PRM's load
 * takes more keys than the policy's).
 */
export function checkLoadOptions(
  options: LoadModelOptions,
  keys: readonly string[] = LOAD_MODEL_OPTION_KEYS,
  where = 'the loadModel() options',
): RuntimeChoice {
  checkOptionKeys(options, keys, where);
  const device = options.device ?? 'auto';
  if (device !== 'auto' && device !== 'cpu' && device !== 'cuda') {
    throw new OptionError(`Expected \`device\` to be 'auto', 'cpu' or 'cuda', got ${String(device)}`);
  }
  if (options.precision !== undefined && options.precision !== 'f32' && options.precision !== 'bf16') {
    throw new OptionError(`Expected \`precision\` to be 'f32' or 'bf16', got ${String(options.precision)}`);
  }
  if (options.weights !== undefined) checkQuantType(options.weights, 'weights');
  const threads = options.threads ?? os.availableParallelism();
  checkInt('threads', threads, 1, 1024);
  const kvCacheBytes = options.kvCacheBytes ?? 256 * 1024 * 1024;
  checkInt('kvCacheBytes', kvCacheBytes, 1);
  const pageTokens = options.pageTokens ?? 16;
  checkInt('pageTokens', pageTokens, 1, 4096);
  if (options.prefixCache !== undefined && typeof options.prefixCache !== 'boolean') {
    throw new OptionError(`Expected \`prefixCache\` to be a boolean, got ${String(options.prefixCache)}`);
  }
  if (options.mmap !== undefined && typeof options.mmap !== 'boolean') {
    throw new OptionError(`Expected \`mmap\` to be a boolean, got ${String(options.mmap)}`);
  }
  return { threads, kvCacheBytes, pageTokens };
}

/**
 * A name for the checkpoint that changes when its weights change: the directory name and a hash of the
 * tensor layout plus a few bytes from the start, middle and end of every tensor. Calibration tables are
 * keyed by it, so a table made for other weights of the same shape is refused rather than silently used;
 * sampling the bytes keeps this to a few reads per tensor even for multi-gigabyte checkpoints.
 */
export function checkpointIdentity(dir: string, spec: NativeModelSpec): { id: string; paramCount: number } {
  const hash = createHash('sha256');
  let paramCount = 0;
  // O_NONBLOCK: the native load refused non-regular files, but a path swapped for a FIFO since must not
  // block the JavaScript thread in open().
  const fds = spec.files.map((f) => openSync(f, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK));
  const sample = Buffer.alloc(IDENTITY_SAMPLE_BYTES);
  try {
    for (const t of spec.tensors) {
      hash.update(`${t.name}:${t.dtype}:${t.shape.join('x')};`);
      paramCount += t.shape.reduce((a, b) => a * b, 1);
      const n = Math.min(IDENTITY_SAMPLE_BYTES, t.byteLength);
      for (const at of [0, Math.floor((t.byteLength - n) / 2), t.byteLength - n]) {
        const got = readSync(fds[t.file]!, sample, 0, n, t.offset + at);
        hash.update(sample.subarray(0, got));
      }
    }
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  hash.update(`${spec.numLayers}/${spec.hiddenSize}/${spec.vocabSize}/${spec.head?.kind ?? 'lm'}`);
  return { id: `${path.basename(path.resolve(dir))}@${hash.digest('hex').slice(0, 12)}`, paramCount };
}

/** Bytes hashed at each of three places in every tensor by checkpointIdentity. */
const IDENTITY_SAMPLE_BYTES = 256;

/** bf16 on the GPU (tensor cores, half the KV bytes); on the CPU bf16 only where AVX-512 BF16 exists. */
export function defaultPrecision(choice: DeviceChoice): PrecisionName {
  if (choice.device === 'cuda') return 'bf16';
  return nativeAddon().kernels.cpuInfo().avx512bf16 ? 'bf16' : 'f32';
}

/** The native spec with the chosen device attached (the CPU needs nothing). */
export function withDevice(spec: NativeModelSpec, choice: DeviceChoice): NativeModelSpec {
  return choice.native === undefined ? spec : { ...spec, device: choice.native };
}

/**
 * The load both models run once their options are checked: choose the device and precision, prepare
 * (read and validate the checkpoint: the first 10% of the progress range), map the weights natively
 * (the rest), and identify the checkpoint. The signal is checked between the steps; a model loaded
 * after an abort is disposed again.
 */
export async function loadNative<P extends { spec: NativeModelSpec }>(
  dir: string,
  options: LoadModelOptions,
  prepare: (precision: PrecisionName, onProgress: ((fraction: number) => void) | undefined) => Promise<P>,
): Promise<{ native: NativeModel; prepared: P; info: LoadedInfo }> {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new OptionError(`Expected the model path to be a non-empty string, got ${describeValue(dir)}`);
  }
  const choice = chooseDevice(options.device ?? 'auto');
  const precision = options.precision ?? defaultPrecision(choice);
  const { signal } = options;
  const onProgress = guardCallback(options.onProgress, 'onProgress');
  if (signal?.aborted) throw abortError(signal, 'model loading');
  const prepared = await prepare(precision, onProgress && ((f) => onProgress(0.1 * f)));
  if (signal?.aborted) throw abortError(signal, 'model loading');
  const spec: NativeModelSpec = {
    ...withDevice(prepared.spec, choice),
    prefixCache: options.prefixCache ?? true,
    mmap: options.mmap ?? true,
  };
  if (options.weights !== undefined) spec.quantize = quantDTypeName(options.weights);
  // The native load polls the signal between reads and pre-faulted pages.
  let native: NativeModel;
  try {
    native = await withCancel(signal, (id) => nativeAddon().loadModel(spec, onProgress && ((f) => onProgress(0.1 + 0.9 * f)), id));
  } catch (err) {
    if (signal !== undefined && isNativeAbort(err)) throw abortError(signal, 'model loading');
    throw err;
  }
  if (signal?.aborted) {
    native.dispose();
    throw abortError(signal, 'model loading');
  }
  const info: LoadedInfo = { ...native.info(), ...checkpointIdentity(dir, prepared.spec), deviceReason: choice.reason };
  return { native, prepared, info };
}

/**
 * Owns a native model: its calls run one at a time in call order (`queue`), `live()` refuses use after
 * dispose with a DisposedError naming the owner, and `dispose()` frees the KV pool and unmaps the
 * weights, once.
 */
export abstract class NativeHandle {
  private disposed = false;
  // Native errors reach callers as the exported classes; a call that dies because dispose() ran while
  // it waited or ran says DisposedError naming the owner, never the addon's plain "model is disposed".
  protected readonly queue = new SerialQueue((err) => toPublicError(err, this.owner));

  protected constructor(
    private readonly native: NativeModel,
    /** The owner's name in DisposedError ('Model', 'Prm'). */
    private readonly owner: string,
  ) {}

  /** The native model; throws DisposedError after dispose. */
  protected live(): NativeModel {
    if (this.disposed) throw new DisposedError(this.owner);
    return this.native;
  }

  /** Runs `tokens` on a temporary sequence and returns the output rows of every position. */
  protected async forwardAll(native: NativeModel, tokens: Int32Array): Promise<Float32Array> {
    const seq = native.createSequence(0);
    try {
      native.appendTokens(seq, tokens);
      return await native.forward(Int32Array.of(seq), 'all');
    } catch (err) {
      return this.nativeFailure(err);
    } finally {
      if (!this.disposed) native.release(seq);
    }
  }

  /**
   * Rethrows a native call's rejection as the error a user catches: an abort through `signal` as the
   * signal's abort error, a disposal as DisposedError naming the owner, the rest as translateNativeError.
   */
  protected nativeFailure(err: unknown, signal?: AbortSignal): never {
    if (signal !== undefined && isNativeAbort(err)) throw abortError(signal);
    return translateNativeError(err, this.owner);
  }

  /** Whether dispose() was called. */
  protected get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * KV pool usage (for auditing leaks): pages in use and free, cached pages (free ones that still hold
   * a reusable prefix, see KvStats) and the tokens computed and skipped through the prefix cache.
   */
  kvStats(): KvStats {
    return this.live().kvStats();
  }

  /** Forgets the owner's own handles into the native model; runs once, just before the native memory goes. */
  protected onDispose(): void {}

  /** Frees the KV pool and unmaps the weights. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose();
    this.native.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // Let queued work finish before the native memory goes.
    await this.queue.run(() => undefined);
    this.dispose();
  }
}
