import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {
  IsaName,
  KvStats,
  NativeGenerateStepResult,
  NativeModel,
  NativeModelSpec,
  PrecisionName,
  SeqId,
} from '../native/addon-types.js';
import { nativeAddon } from '../native/load.js';
import { DisposedError, OptionError, abortError, translateNativeError } from '../errors.js';
import { chooseDevice, type DeviceChoice } from '../native/cuda.js';
import { SerialQueue } from '../util/mutex.js';
import { prepareModel } from './prepare.js';
import type { ModelConfig } from './config.js';
import type { TextTokenizer } from './tokenizer.js';
import { applyChatTemplate, type ChatMessage, type ChatTemplateOptions } from './chat-template.js';

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
  /** Worker threads for the native kernels. @default os.availableParallelism() */
  threads?: number;
  /** Byte budget of the KV page pool, allocated once at load. @default 256 MiB */
  kvCacheBytes?: number;
  /** Tokens per KV page. @default 16 */
  pageTokens?: number;
  /** Load progress in [0, 1]. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

export interface SamplingOptions {
  /** 0 is greedy decoding. @default 0 */
  temperature?: number;
  /** Keep the k most likely tokens; 0 disables. @default 0 */
  topK?: number;
  /** Nucleus sampling mass; 1 disables. @default 1 */
  topP?: number;
  /** Drop tokens below minP × the top probability; 0 disables. @default 0 */
  minP?: number;
}

export interface GenerateOptions extends SamplingOptions {
  /** @default 256 */
  maxTokens?: number;
  /** Strings that end the generation; the text includes the stop string. @default [] */
  stop?: readonly string[];
  /** Sampler seed (integer in [0, 2^53)). @default 0 */
  seed?: number;
}

export interface StepOptions extends SamplingOptions {
  /** Most tokens one step may generate. @default 256 */
  maxTokens?: number;
  /** Strings that end a step (kept in its text), e.g. `["\n\n"]`. @default [] */
  stop?: readonly string[];
  /** Whether EOS ends the step. @default true */
  stopAtEos?: boolean;
}

export type FinishReason = 'stop' | 'eos' | 'length';

export interface StepResult {
  tokens: Int32Array;
  /** Decoded text of the step (special tokens skipped). */
  text: string;
  /** Per-token log-probabilities under the model's unfiltered distribution. */
  logprobs: Float32Array;
  finishReason: FinishReason;
}

export interface GenerateResult extends StepResult {
  promptTokens: number;
}

export interface ModelInfo {
  device: 'cpu' | 'cuda';
  /** Why this device was chosen (e.g. no usable GPU, and the reason). */
  deviceReason: string;
  /** Identifies the checkpoint: directory name and a hash of its tensor layout and sampled weight bytes (checkpointIdentity). */
  id: string;
  /** Parameters in the checkpoint's tensors (tied matrices counted once). */
  paramCount: number;
  isa: IsaName;
  precision: PrecisionName;
  threads: number;
  pageTokens: number;
  pagesTotal: number;
  bytesPerPage: number;
  weightBytes: number;
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
  const fds = spec.files.map((f) => openSync(f, 'r'));
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

const FINISH: readonly FinishReason[] = ['stop', 'eos', 'length'];

function checkInt(name: string, v: number, lo: number, hi = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new OptionError(`Expected \`${name}\` to be an integer in [${lo}, ${hi}], got ${v}`);
  }
}

function checkSampling(o: SamplingOptions): void {
  const t = o.temperature ?? 0;
  if (!(t >= 0) || !Number.isFinite(t)) throw new OptionError(`Expected \`temperature\` ≥ 0, got ${t}`);
  checkInt('topK', o.topK ?? 0, 0);
  const p = o.topP ?? 1;
  if (!(p > 0 && p <= 1)) throw new OptionError(`Expected \`topP\` in (0, 1], got ${p}`);
  const m = o.minP ?? 0;
  if (!(m >= 0 && m <= 1)) throw new OptionError(`Expected \`minP\` in [0, 1], got ${m}`);
}

/**
 * A causal language model loaded from a Hugging Face directory (config.json, safetensors,
 * tokenizer.json), with its KV page pool. Sequences are native handles; forks share KV pages.
 */
export class Model {
  private disposed = false;
  private readonly queue = new SerialQueue();
  private readonly encoder = new TextEncoder();

  private constructor(
    private readonly native: NativeModel,
    readonly config: ModelConfig,
    readonly tokenizer: TextTokenizer,
    readonly info: ModelInfo,
  ) {}

  static async load(dir: string, options: LoadModelOptions = {}): Promise<Model> {
    const device = options.device ?? 'auto';
    if (device !== 'auto' && device !== 'cpu' && device !== 'cuda') {
      throw new OptionError(`Expected \`device\` to be 'auto', 'cpu' or 'cuda', got ${String(device)}`);
    }
    const choice = chooseDevice(device);
    const threads = options.threads ?? os.availableParallelism();
    checkInt('threads', threads, 1, 1024);
    const kvCacheBytes = options.kvCacheBytes ?? 256 * 1024 * 1024;
    checkInt('kvCacheBytes', kvCacheBytes, 1);
    const pageTokens = options.pageTokens ?? 16;
    checkInt('pageTokens', pageTokens, 1, 4096);
    const addon = nativeAddon();
    const precision = options.precision ?? defaultPrecision(choice);
    if (precision !== 'f32' && precision !== 'bf16') {
      throw new OptionError(`Expected \`precision\` to be 'f32' or 'bf16', got ${String(precision)}`);
    }
    const { signal, onProgress } = options;
    if (signal?.aborted) throw abortError(signal);
    // Header parsing and validation take the first 10% of the progress range, mapping the rest.
    const prepared = await prepareModel(dir, {
      kvCacheBytes,
      pageTokens,
      threads,
      precision,
      signal,
      onProgress: onProgress && ((f) => onProgress(0.1 * f)),
    });
    if (signal?.aborted) throw abortError(signal);
    const spec = withDevice(prepared.spec, choice);
    const native = await addon.loadModel(spec, onProgress && ((f) => onProgress(0.1 + 0.9 * f)));
    if (signal?.aborted) {
      native.dispose();
      throw abortError(signal);
    }
    const ni = native.info();
    const info: ModelInfo = { ...checkpointIdentity(dir, prepared.spec), ...ni, deviceReason: choice.reason };
    return new Model(native, prepared.config, prepared.tokenizer, info);
  }

  private live(): NativeModel {
    if (this.disposed) throw new DisposedError('Model');
    return this.native;
  }

  private toIds(input: string | ArrayLike<number>): Int32Array {
    if (typeof input === 'string') return Int32Array.from(this.tokenizer.encode(input, { addSpecialTokens: true }));
    const ids = Int32Array.from(input);
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== input[i]) throw new OptionError(`token id at index ${i} is not a 32-bit integer: ${input[i]}`);
    }
    return ids;
  }

  /**
   * Prompt text for `messages` in the model's chat template (tokenizer_config.json), with the
   * assistant header appended unless `addGenerationPrompt` is false.
   */
  chatPrompt(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    return applyChatTemplate(this.tokenizer.tokenizerConfig, messages, { addGenerationPrompt: true, ...options });
  }

  /** KV pool usage: pages in use and free (for auditing leaks). */
  kvStats(): KvStats {
    return this.live().kvStats();
  }

  /**
   * Logits at every position of `ids`, row-major `[ids.length × vocab]`: the conformance entry point.
   * Runs on a temporary sequence that is released afterwards.
   */
  logits(ids: ArrayLike<number>): Promise<Float32Array> {
    const tokens = this.toIds(ids);
    if (tokens.length === 0) return Promise.reject(new OptionError('logits() needs at least one token id'));
    return this.queue.run(async () => {
      const native = this.live();
      const seq = native.createSequence(0);
      try {
        native.appendTokens(seq, tokens);
        return await native.forward(Int32Array.of(seq), 'all');
      } catch (err) {
        return translateNativeError(err);
      } finally {
        native.release(seq);
      }
    });
  }

  /** Generates a continuation of a prompt (text is encoded with the tokenizer, ids are used as given). */
  async generate(promptOrIds: string | ArrayLike<number>, options: GenerateOptions = {}): Promise<GenerateResult> {
    const prompt = this.toIds(promptOrIds);
    if (prompt.length === 0) throw new OptionError('generate() needs a non-empty prompt');
    const seed = options.seed ?? 0;
    checkInt('seed', seed, 0);
    const seq = await this.createSequence({ seed });
    try {
      await this.appendTokens(seq, prompt);
      const [step] = await this.generateStep([seq], options);
      return { ...step, promptTokens: prompt.length };
    } finally {
      await this.release(seq);
    }
  }

  /** A new empty sequence with its own sampler stream. */
  createSequence(options: { seed?: number } = {}): Promise<SeqId> {
    const seed = options.seed ?? 0;
    checkInt('seed', seed, 0);
    return this.queue.run(() => this.live().createSequence(seed));
  }

  /** A child that shares all of `seq`'s KV pages; seed omitted = derived from the parent. */
  fork(seq: SeqId, options: { seed?: number } = {}): Promise<SeqId> {
    if (options.seed !== undefined) checkInt('seed', options.seed, 0);
    return this.queue.run(() => this.live().fork(seq, options.seed));
  }

  /** One child per entry of `parents`, in one native call. */
  forkMany(parents: readonly SeqId[]): Promise<SeqId[]> {
    return this.queue.run(() => Array.from(this.live().forkMany(Int32Array.from(parents))) as SeqId[]);
  }

  release(seq: SeqId): Promise<void> {
    return this.queue.run(() => this.live().release(seq));
  }

  releaseMany(seqs: readonly SeqId[]): Promise<void> {
    return this.queue.run(() => this.live().releaseMany(Int32Array.from(seqs)));
  }

  /** Appends tokens (or the encoding of a text, without special tokens) to a sequence. */
  appendTokens(seq: SeqId, tokensOrText: string | ArrayLike<number>): Promise<void> {
    const ids =
      typeof tokensOrText === 'string'
        ? Int32Array.from(this.tokenizer.encode(tokensOrText, { addSpecialTokens: false }))
        : this.toIds(tokensOrText);
    return this.queue.run(() => this.live().appendTokens(seq, ids));
  }

  sequenceTokens(seq: SeqId): Promise<Int32Array> {
    return this.queue.run(() => this.live().sequenceTokens(seq));
  }

  /**
   * Decodes every sequence until a stop string, EOS or `maxTokens`, all in native batches with no
   * round trip to JavaScript per token. Sampling options apply to all sequences of the call.
   */
  generateStep(seqs: readonly SeqId[], options: StepOptions = {}): Promise<StepResult[]> {
    checkSampling(options);
    const maxTokens = options.maxTokens ?? 256;
    checkInt('maxTokens', maxTokens, 1, 1 << 20);
    const stop = (options.stop ?? []).map((s, i) => {
      if (typeof s !== 'string' || s.length === 0) throw new OptionError(`stop[${i}] must be a non-empty string`);
      return this.encoder.encode(s);
    });
    const n = seqs.length;
    const fill = <T extends Float32Array | Int32Array>(a: T, v: number): T => (a.fill(v), a);
    const req = {
      seqs: Int32Array.from(seqs),
      maxTokens: fill(new Int32Array(n), maxTokens),
      temperature: fill(new Float32Array(n), options.temperature ?? 0),
      topK: fill(new Int32Array(n), options.topK ?? 0),
      topP: fill(new Float32Array(n), options.topP ?? 1),
      minP: fill(new Float32Array(n), options.minP ?? 0),
      stop,
      stopAtEos: options.stopAtEos ?? true,
    };
    return this.queue.run(async () => {
      let res: NativeGenerateStepResult;
      try {
        res = await this.live().generateStep(req);
      } catch (err) {
        return translateNativeError(err);
      }
      return this.splitSteps(res);
    });
  }

  private splitSteps(res: NativeGenerateStepResult): StepResult[] {
    const out: StepResult[] = [];
    let at = 0;
    for (let i = 0; i < res.tokenCounts.length; i++) {
      const count = res.tokenCounts[i];
      const tokens = res.tokens.slice(at, at + count);
      out.push({
        tokens,
        text: this.tokenizer.decode(Array.from(tokens), { skipSpecialTokens: true }),
        logprobs: res.logprobs.slice(at, at + count),
        finishReason: FINISH[res.finish[i]] ?? 'length',
      });
      at += count;
    }
    return out;
  }

  /** Frees the KV pool and unmaps the weights. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.native.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // Let queued work finish before the native memory goes.
    await this.queue.run(() => undefined);
    this.dispose();
  }
}

/** Loads a causal LM from a Hugging Face model directory. */
export function loadModel(dir: string, options?: LoadModelOptions): Promise<Model> {
  return Model.load(dir, options);
}
