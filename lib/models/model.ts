import type { NativeGenerateStepResult, NativeModel, SeqId } from '../native/addon-types.js';
import { DisposedError, KvBudgetError, OptionError, QueueFullError, abortError, translateNativeError } from '../errors.js';
import { withCancel } from '../native/cancel.js';
import { NonFiniteOutputError, checkContext } from './errors.js';
import { NativeHandle, checkInt, checkLoadOptions, checkSeq, loadNative, toSeqIds, type LoadedInfo, type LoadModelOptions } from './lifecycle.js';
import { prepareModel } from './prepare.js';
import { checkSampling, type SamplingOptions } from './sampling.js';
import type { ModelConfig } from './config.js';
import type { TextTokenizer } from './tokenizer.js';
import { applyChatTemplate, type ChatMessage, type ChatTemplateOptions } from './chat-template.js';
import { checkOptionKeys, describeValue, optionKeys } from '../util/options.js';
import { ReservationQueue } from '../util/reservation-queue.js';

export type { Device, LoadModelOptions } from './lifecycle.js';
export type { SamplingOptions } from './sampling.js';

export interface GenerateOptions extends SamplingOptions {
  /** @default 256 */
  maxTokens?: number;
  /** Strings that end the generation; the text includes the stop string. @default [] */
  stop?: readonly string[];
  /** Sampler seed (integer in [0, 2^53)). @default 0 */
  seed?: number;
  /**
   * Cancels the call while it waits for KV pages, and stops the generation between tokens (native
   * work included); it then rejects with AbortError.
   */
  signal?: AbortSignal;
}

export interface StepOptions extends SamplingOptions {
  /** Most tokens one step may generate. @default 256 */
  maxTokens?: number;
  /** Strings that end a step (kept in its text), e.g. `["\n\n"]`. @default [] */
  stop?: readonly string[];
  /** Whether EOS ends the step. @default true */
  stopAtEos?: boolean;
  /**
   * Stops the step between tokens (native work included); it then rejects with the signal's abort
   * error and every sequence is left as it was before the call.
   */
  signal?: AbortSignal;
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

/** What a loaded model reports (LoadedInfo: the native runtime's numbers, device, identity, parameters). */
export type ModelInfo = LoadedInfo;

const FINISH: readonly FinishReason[] = ['stop', 'eos', 'length'];

// The keys each method's options take (the compiler checks each list against its type).
const SAMPLING_KEYS = ['temperature', 'topK', 'topP', 'minP'] as const satisfies readonly (keyof SamplingOptions)[];
const GENERATE_KEYS = optionKeys<GenerateOptions>()([...SAMPLING_KEYS, 'maxTokens', 'stop', 'seed', 'signal']);

/** generate() calls that may wait for KV pages at once; one more fails with QueueFullError. */
export const MAX_WAITING_GENERATIONS = 4096;
const STEP_KEYS = optionKeys<StepOptions>()([...SAMPLING_KEYS, 'maxTokens', 'stop', 'stopAtEos', 'signal']);
const SEED_KEYS = optionKeys<{ seed?: number }>()(['seed']);
const CHAT_KEYS = optionKeys<ChatTemplateOptions>()(['addGenerationPrompt', 'templateName', 'variables', 'limits']);

/**
 * A causal language model loaded from a Hugging Face directory (config.json, safetensors,
 * tokenizer.json), with its KV page pool. Sequences are native handles; forks share KV pages.
 */
export class Model extends NativeHandle {
  private readonly encoder = new TextEncoder();
  /** generate() calls' worst-case KV pages, reserved in arrival order (created on first use). */
  private pageReservations: ReservationQueue | null = null;

  private constructor(
    native: NativeModel,
    readonly config: ModelConfig,
    readonly tokenizer: TextTokenizer,
    readonly info: ModelInfo,
  ) {
    super(native, 'Model');
  }

  static async load(dir: string, options: LoadModelOptions = {}): Promise<Model> {
    const runtime = checkLoadOptions(options);
    const { native, prepared, info } = await loadNative(dir, options, (precision, onProgress) =>
      prepareModel(dir, { ...runtime, precision, signal: options.signal, onProgress }),
    );
    return new Model(native, prepared.config, prepared.tokenizer, info);
  }

  private toIds(input: string | ArrayLike<number>): Int32Array {
    const v: unknown = input;
    if (typeof v !== 'string' && (typeof v !== 'object' || v === null || typeof (v as { length?: unknown }).length !== 'number')) {
      throw new OptionError(`Expected a text or an array of token ids, got ${describeValue(v)}`);
    }
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
    checkOptionKeys(options, CHAT_KEYS, 'the chatPrompt() options');
    return applyChatTemplate(this.tokenizer.tokenizerConfig, messages, { addGenerationPrompt: true, ...options });
  }

  /**
   * Logits at every position of `ids`, row-major `[ids.length × vocab]`: the conformance entry point.
   * Runs on a temporary sequence that is released afterwards.
   */
  logits(ids: ArrayLike<number>): Promise<Float32Array> {
    const tokens = this.toIds(ids);
    if (tokens.length === 0) return Promise.reject(new OptionError('logits() needs at least one token id'));
    try {
      checkContext('logits()', tokens.length, this.config.maxPositionEmbeddings);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.queue.run(async () => this.checkNaN(await this.forwardAll(this.live(), tokens)));
  }

  /** `values` unchanged, or NonFiniteOutputError when the forward pass produced a NaN. */
  private checkNaN<T extends Float32Array>(values: T): T {
    for (let i = 0; i < values.length; i++) {
      if (Number.isNaN(values[i])) throw new NonFiniteOutputError(this.info.id);
    }
    return values;
  }

  /** Generates a continuation of a prompt (text is encoded with the tokenizer, ids are used as given). */
  async generate(promptOrIds: string | ArrayLike<number>, options: GenerateOptions = {}): Promise<GenerateResult> {
    const prompt = this.toIds(promptOrIds);
    if (prompt.length === 0) throw new OptionError('generate() needs a non-empty prompt');
    checkContext(`generate(): the prompt of ${prompt.length} tokens`, prompt.length, this.config.maxPositionEmbeddings);
    checkOptionKeys(options, GENERATE_KEYS, 'the generate() options');
    const { seed = 0, signal, ...stepOptions } = options;
    checkInt('seed', seed, 0);
    // Admission by KV capacity: the call reserves the pages its sequence can hold at most before it
    // starts, and waits in arrival order while earlier calls hold them, instead of failing halfway.
    const reserved = await this.reservePages(prompt.length, stepOptions.maxTokens ?? 256, signal);
    try {
      const seq = await this.createSequence({ seed });
      try {
        await this.appendTokens(seq, prompt);
        const [step] = await this.generateStep([seq], { ...stepOptions, signal });
        return { ...step, promptTokens: prompt.length };
      } finally {
        // After dispose the sequence went with the model; the call's own error (DisposedError) stands.
        if (!this.isDisposed) await this.release(seq);
      }
    } finally {
      this.pageReservations!.give(reserved);
    }
  }

  /**
   * Reserves the KV pages a fresh sequence of `promptTokens` plus `maxTokens` generated ones can hold
   * (the last sampled token is never written; capped at the pool, so a call that may outgrow it runs
   * alone). A prompt that alone needs more pages than the pool has could never run: KvBudgetError now.
   */
  private reservePages(promptTokens: number, maxTokens: number, signal: AbortSignal | undefined): Promise<number> {
    checkInt('maxTokens', maxTokens, 1, 1 << 20);
    const { pageTokens, pagesTotal } = this.live().kvStats();
    const promptPages = Math.ceil(promptTokens / pageTokens);
    if (promptPages > pagesTotal) {
      return Promise.reject(
        new KvBudgetError(
          `generate(): the prompt of ${promptTokens} tokens needs ${promptPages} KV pages of ${pageTokens} tokens, and the whole pool ` +
            `holds ${pagesTotal}; raise \`kvCacheBytes\` or shorten the prompt`,
        ),
      );
    }
    const limit = this.config.maxPositionEmbeddings ?? Number.MAX_SAFE_INTEGER;
    const tokens = Math.min(promptTokens + maxTokens - 1, limit);
    this.pageReservations ??= new ReservationQueue(
      pagesTotal,
      MAX_WAITING_GENERATIONS,
      () => new QueueFullError('generate() calls', MAX_WAITING_GENERATIONS, 'wait for earlier calls to settle before starting more'),
      'generate()',
    );
    return this.pageReservations.reserve(Math.ceil(tokens / pageTokens), signal);
  }

  /** Calls waiting for KV pages fail: the pool is going. */
  protected override onDispose(): void {
    this.pageReservations?.close(() => new DisposedError('Model'));
  }

  /** A new empty sequence with its own sampler stream. */
  createSequence(options: { seed?: number } = {}): Promise<SeqId> {
    checkOptionKeys(options, SEED_KEYS, 'the createSequence() options');
    const seed = options.seed ?? 0;
    checkInt('seed', seed, 0);
    return this.queue.run(() => this.live().createSequence(seed));
  }

  /** A child that shares all of `seq`'s KV pages; seed omitted = derived from the parent. */
  fork(seq: SeqId, options: { seed?: number } = {}): Promise<SeqId> {
    checkOptionKeys(options, SEED_KEYS, 'the fork() options');
    if (options.seed !== undefined) checkInt('seed', options.seed, 0);
    checkSeq('fork', seq);
    return this.queue.run(() => this.live().fork(seq, options.seed));
  }

  /** One child per entry of `parents`, in one native call. */
  forkMany(parents: readonly SeqId[]): Promise<SeqId[]> {
    const ids = toSeqIds('forkMany', parents);
    return this.queue.run(() => Array.from(this.live().forkMany(ids)) as SeqId[]);
  }

  release(seq: SeqId): Promise<void> {
    checkSeq('release', seq);
    return this.queue.run(() => this.live().release(seq));
  }

  releaseMany(seqs: readonly SeqId[]): Promise<void> {
    const ids = toSeqIds('releaseMany', seqs);
    return this.queue.run(() => this.live().releaseMany(ids));
  }

  /** Appends tokens (or the encoding of a text, without special tokens) to a sequence. */
  appendTokens(seq: SeqId, tokensOrText: string | ArrayLike<number>): Promise<void> {
    checkSeq('appendTokens', seq);
    const ids =
      typeof tokensOrText === 'string'
        ? Int32Array.from(this.tokenizer.encode(tokensOrText, { addSpecialTokens: false }))
        : this.toIds(tokensOrText);
    return this.queue.run(() => {
      const native = this.live();
      const have = this.lengthOf(native, seq);
      if (have !== undefined) checkContext(`appendTokens(): sequence ${seq} (${have} tokens) + ${ids.length} new tokens`, have + ids.length, this.config.maxPositionEmbeddings);
      native.appendTokens(seq, ids);
    });
  }

  /**
   * Runs every pending token of `seq` now, so that its forks share the prompt's KV pages instead of each
   * computing the prompt again (a fork copies pending tokens; it shares only pages already written).
   * Resolves to the tokens the prefix cache let it skip.
   */
  prefill(seq: SeqId): Promise<number> {
    checkSeq('prefill', seq);
    return this.queue.run(async () => {
      const native = this.live();
      const before = native.kvStats().prefixHitTokens;
      try {
        await native.forward(Int32Array.of(seq), 'last');
      } catch (err) {
        return this.nativeFailure(err);
      }
      return native.kvStats().prefixHitTokens - before;
    });
  }

  sequenceTokens(seq: SeqId): Promise<Int32Array> {
    checkSeq('sequenceTokens', seq);
    return this.queue.run(() => this.live().sequenceTokens(seq));
  }

  /**
   * Decodes every sequence until a stop string, EOS or `maxTokens`, all in native batches with no
   * round trip to JavaScript per token. Sampling options apply to all sequences of the call.
   */
  generateStep(seqs: readonly SeqId[], options: StepOptions = {}): Promise<StepResult[]> {
    checkOptionKeys(options, STEP_KEYS, 'the generateStep() options');
    const sampling = checkSampling(options);
    const maxTokens = options.maxTokens ?? 256;
    checkInt('maxTokens', maxTokens, 1, 1 << 20);
    if (options.stop !== undefined && !Array.isArray(options.stop)) {
      throw new OptionError(`Expected \`stop\` to be an array of strings, got ${describeValue(options.stop)}`);
    }
    const stop = (options.stop ?? []).map((s, i) => {
      if (typeof s !== 'string' || s.length === 0) throw new OptionError(`stop[${i}] must be a non-empty string`);
      return this.encoder.encode(s);
    });
    const ids = toSeqIds('generateStep', seqs);
    const { signal } = options;
    const n = ids.length;
    const fill = <T extends Float32Array | Int32Array>(a: T, v: number): T => (a.fill(v), a);
    const req = {
      seqs: ids,
      maxTokens: fill(new Int32Array(n), maxTokens),
      temperature: fill(new Float32Array(n), sampling.temperature),
      topK: fill(new Int32Array(n), sampling.topK),
      topP: fill(new Float32Array(n), sampling.topP),
      minP: fill(new Float32Array(n), sampling.minP),
      stop,
      stopAtEos: options.stopAtEos ?? true,
    };
    return this.queue.run(async () => {
      if (signal?.aborted) throw abortError(signal);
      const native = this.live();
      // Generation stops at the context (finish reason 'length'): cap each sequence's budget to the
      // positions left, and leave sequences already at the limit out of the native call.
      const limit = this.config.maxPositionEmbeddings;
      const run: number[] = [];
      for (let i = 0; i < n; i++) {
        if (limit === undefined) {
          run.push(i);
          continue;
        }
        const have = this.lengthOf(native, ids[i] as SeqId);
        const left = have === undefined ? maxTokens : limit - have;
        if (left <= 0) continue;
        req.maxTokens[i] = Math.min(maxTokens, left);
        run.push(i);
      }
      if (run.length === 0 && n > 0) return Array.from(ids, () => this.emptyStep());
      const pick = <T extends Float32Array | Int32Array>(a: T): T => (run.length === n ? a : (a.filter((_, i) => run.includes(i)) as T));
      const sub = { ...req, seqs: pick(ids), maxTokens: pick(req.maxTokens), temperature: pick(req.temperature), topK: pick(req.topK), topP: pick(req.topP), minP: pick(req.minP) };
      let res: NativeGenerateStepResult;
      try {
        res = await withCancel(signal, (cancelId) => native.generateStep({ ...sub, cancelId }));
      } catch (err) {
        return this.nativeFailure(err, signal);
      }
      // A NaN logit row samples token 0 with a NaN log-probability.
      this.checkNaN(res.logprobs);
      const steps = this.splitSteps(res);
      if (run.length === n) return steps;
      const out: StepResult[] = Array.from(ids, () => this.emptyStep());
      run.forEach((i, j) => (out[i] = steps[j]!));
      return out;
    });
  }

  /** Tokens in `seq`, or undefined for a handle the native side refuses (its own call then says why). */
  private lengthOf(native: NativeModel, seq: SeqId): number | undefined {
    try {
      return native.sequenceLength(seq);
    } catch {
      return undefined;
    }
  }

  /** The result of a sequence that is already at the context limit. */
  private emptyStep(): StepResult {
    return { tokens: new Int32Array(0), text: '', logprobs: new Float32Array(0), finishReason: 'length' };
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
}

/** Loads a causal LM from a Hugging Face model directory. */
export function loadModel(dir: string, options?: LoadModelOptions): Promise<Model> {
  return Model.load(dir, options);
}
