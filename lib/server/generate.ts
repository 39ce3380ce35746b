/**
 * Completions on the served policy: one prompt prefilled once (on its own, so the tokens the prefix cache
 * served it are known exactly) and forked `n` ways (the children share
 * its KV pages), then decoded in rounds of `chunkTokens` tokens. Each round of every concurrent request
 * goes through one StepBatcher, so the rounds of all clients with the same sampling options run as one
 * native generateStep; a new request joins at the next round (continuous batching at chunk granularity).
 * Every sequence is released when the request ends, also when it fails or its client goes away.
 */
import { randomInt } from 'node:crypto';
import { StepBatcher } from '../backends/step-batcher.js';
import { abortError } from '../errors.js';
import type { Model, StepOptions, StepResult } from '../models/model.js';
import type { SeqId } from '../native/addon-types.js';

export interface GenerationRequest {
  /** Prompt token ids (non-empty, already checked against the context length). */
  prompt: readonly number[];
  n: number;
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  /** Sampler seed of the prompt sequence; the forks derive theirs from it. Absent: random. */
  seed?: number;
  stop: readonly string[];
  includeStopStrInOutput: boolean;
  skipSpecialTokens: boolean;
}

/** vLLM's finish_reason and stop_reason: a matched stop string, or null (EOS, length). */
export interface ChoiceOutput {
  text: string;
  tokens: number[];
  logprobs: number[];
  finishReason: 'stop' | 'length';
  stopReason: string | null;
}

/** Text added to one choice since the last delta (streaming). */
export interface ChoiceDelta {
  index: number;
  text: string;
  /** Set once, on the choice's last delta. */
  finish?: { finishReason: 'stop' | 'length'; stopReason: string | null };
}

interface Track {
  seq: SeqId;
  tokens: number[];
  logprobs: number[];
  /** Characters of the final text already sent as deltas. */
  sent: number;
  /** Whether the last delta (with the finish reason) went out. */
  closed: boolean;
  finish: ChoiceDelta['finish'] | null;
  text: string;
}

export interface GeneratorOptions {
  /** Tokens per decode round. @default 16 */
  chunkTokens?: number;
  /** Counts generated tokens (metrics). */
  onTokens?: (prompt: number, generated: number) => void;
}

export class Generator {
  private readonly batcher: StepBatcher<SeqId, StepResult>;
  private readonly chunkTokens: number;

  constructor(
    readonly model: Model,
    private readonly options: GeneratorOptions = {},
  ) {
    this.chunkTokens = options.chunkTokens ?? 16;
    this.batcher = new StepBatcher((seqs, key) => model.generateStep(seqs, JSON.parse(key) as StepOptions));
  }

  /** Requests waiting for the next round. */
  get pending(): number {
    return this.batcher.pending;
  }

  /** All choices of one prompt, decoded to the end; `cachedTokens`: prompt tokens the prefix cache served. */
  async complete(req: GenerationRequest, signal?: AbortSignal): Promise<{ choices: ChoiceOutput[]; cachedTokens: number }> {
    let out: ChoiceOutput[] = [];
    const cachedTokens = await this.run(req, signal, (tracks) => {
      out = tracks.map((t) => ({
        text: t.text,
        tokens: t.tokens,
        logprobs: t.logprobs,
        finishReason: t.finish!.finishReason,
        stopReason: t.finish!.stopReason,
      }));
    });
    return { choices: out, cachedTokens };
  }

  /** The choices' text as it is generated: `onDelta` after every round with what each choice added. */
  async stream(
    req: GenerationRequest,
    onDelta: (deltas: ChoiceDelta[]) => void,
    signal?: AbortSignal,
  ): Promise<{ promptTokens: number; completionTokens: number; cachedTokens: number }> {
    let completionTokens = 0;
    const cachedTokens = await this.run(req, signal, undefined, (tracks) => {
      const holdBack = req.stop.reduce((m, s) => Math.max(m, s.length - 1), 0);
      const deltas: ChoiceDelta[] = [];
      tracks.forEach((t, index) => {
        // Hold back what may still become part of a stop string, and a half-decoded character.
        if (t.closed) return;
        let end = t.finish ? t.text.length : Math.max(t.sent, t.text.length - holdBack);
        if (!t.finish) while (end > t.sent && t.text.charCodeAt(end - 1) === 0xfffd) end--;
        const text = t.text.slice(t.sent, end);
        if (text === '' && !t.finish) return;
        t.sent = end;
        const delta: ChoiceDelta = { index, text };
        if (t.finish) {
          delta.finish = t.finish;
          t.closed = true;
        }
        deltas.push(delta);
      });
      if (deltas.length > 0) onDelta(deltas);
      completionTokens = tracks.reduce((a, t) => a + t.tokens.length, 0);
    });
    return { promptTokens: req.prompt.length, completionTokens, cachedTokens };
  }

  private async run(
    req: GenerationRequest,
    signal: AbortSignal | undefined,
    onEnd?: (tracks: Track[]) => void,
    onRound?: (tracks: Track[]) => void,
  ): Promise<number> {
    const { tracks, cachedTokens } = await this.start(req, signal);
    try {
      this.options.onTokens?.(req.prompt.length, 0);
      while (tracks.some((t) => t.finish === null)) {
        if (signal?.aborted) throw abortError(signal);
        const active = tracks.filter((t) => t.finish === null);
        const done = active[0]!.tokens.length;
        const maxTokens = Math.min(this.chunkTokens, req.maxTokens - done);
        const key = JSON.stringify({
          temperature: req.temperature,
          topK: req.topK,
          topP: req.topP,
          minP: req.minP,
          maxTokens,
          stop: req.stop,
        } satisfies StepOptions);
        const steps = await this.batcher.submit(
          active.map((t) => t.seq),
          key,
        );
        let generated = 0;
        steps.forEach((step, i) => {
          generated += step.tokens.length;
          this.advance(active[i]!, step, req);
        });
        this.options.onTokens?.(0, generated);
        onRound?.(tracks);
      }
      onEnd?.(tracks);
      return cachedTokens;
    } finally {
      await this.model.releaseMany(tracks.map((t) => t.seq));
    }
  }

  /** The prompt sequence, prefilled (all but its last token) and forked n − 1 ways. */
  private async start(req: GenerationRequest, signal: AbortSignal | undefined): Promise<{ tracks: Track[]; cachedTokens: number }> {
    if (signal?.aborted) throw abortError(signal);
    const seq = await this.model.createSequence({ seed: req.seed ?? randomInt(0, 2 ** 47) });
    const seqs: SeqId[] = [seq];
    let cachedTokens = 0;
    try {
      const prompt = req.prompt;
      // The last prompt token stays pending: the first decode round runs it and samples from its logits.
      if (prompt.length > 1) {
        await this.model.appendTokens(seq, prompt.slice(0, -1));
        cachedTokens = await this.model.prefill(seq);
      }
      await this.model.appendTokens(seq, prompt.slice(-1));
      if (req.n > 1) seqs.push(...(await this.model.forkMany(new Array<SeqId>(req.n - 1).fill(seq))));
    } catch (err) {
      await this.model.releaseMany(seqs);
      throw err;
    }
    return { tracks: seqs.map((s) => ({ seq: s, tokens: [], logprobs: [], sent: 0, closed: false, finish: null, text: '' })), cachedTokens };
  }

  /** Adds a round's tokens to a choice and decides whether it ended (EOS, a stop string, max_tokens). */
  private advance(t: Track, step: StepResult, req: GenerationRequest): void {
    const before = t.tokens.length;
    t.tokens.push(...step.tokens);
    t.logprobs.push(...step.logprobs);
    const decode = (ids: readonly number[]) => this.model.tokenizer.decode(ids, { skipSpecialTokens: req.skipSpecialTokens });
    const full = decode(t.tokens);
    // A stop string may span two rounds; the native stop check sees one round's bytes only.
    const match = firstStop(full, req.stop);
    if (match !== null) {
      // Tokens past the one that completed the stop string are not part of the choice.
      let k = before + 1;
      while (k < t.tokens.length && firstStop(decode(t.tokens.slice(0, k)), req.stop) === null) k++;
      t.tokens.length = k;
      t.logprobs.length = k;
      const m = firstStop(decode(t.tokens), req.stop) ?? match;
      t.text = full.slice(0, m.at + (req.includeStopStrInOutput ? m.stop.length : 0));
      t.finish = { finishReason: 'stop', stopReason: m.stop };
      return;
    }
    t.text = full;
    if (step.finishReason === 'eos') t.finish = { finishReason: 'stop', stopReason: null };
    else if (t.tokens.length >= req.maxTokens) t.finish = { finishReason: 'length', stopReason: null };
  }
}

/** The earliest stop string in `text` (the first listed wins a tie). */
export function firstStop(text: string, stops: readonly string[]): { at: number; stop: string } | null {
  let best: { at: number; stop: string } | null = null;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && (best === null || at < best.at)) best = { at, stop };
  }
  return best;
}
