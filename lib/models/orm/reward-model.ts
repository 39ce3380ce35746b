/**
 * An outcome reward model: one scalar for a whole (prompt, response) conversation, read by its `score`
 * head at the conversation's last token, as Qwen2ForRewardModel and *ForSequenceClassification
 * checkpoints compute it. Usable as a TPO judge (lib/tpo/judge-orm.ts) or to pick the best of N.
 *
 * The conversation is the checkpoint's chat template rendered over [system?, user = prompt, assistant =
 * response] without a generation prompt, encoded without adding special tokens (the template writes
 * its own), as the model cards do. The reward is read at the last token that is not the pad token
 * (transformers' rule for sequence classification).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { NativeModel, SeqId } from '../../native/addon-types.js';
import { OptionError, abortError, translateNativeError } from '../../errors.js';
import { checkOptionKeys, optionKeys } from '../../util/options.js';
import type { ModelConfig } from '../config.js';
import { checkContext } from '../errors.js';
import { LOAD_MODEL_OPTION_KEYS, NativeHandle, checkLoadOptions, loadNative, type LoadModelOptions, type LoadedInfo } from '../lifecycle.js';
import { prepareModel } from '../prepare.js';
import type { TextTokenizer } from '../tokenizer.js';
import { OrmFormatError } from './errors.js';
import { chooseOrmHead, ormReward, type OrmHead } from './head.js';

export interface LoadRewardModelOptions extends LoadModelOptions {
  /** A system turn put before the prompt. @default none (the template's own default, if it has one) */
  systemPrompt?: string;
  /** For a head with several labels: the label whose softmax probability is the reward. @default 1 */
  label?: number;
}

export const LOAD_REWARD_MODEL_OPTION_KEYS = optionKeys<LoadRewardModelOptions>()([
  ...(LOAD_MODEL_OPTION_KEYS as readonly (keyof LoadModelOptions)[]),
  'systemPrompt',
  'label',
]);

/** One conversation to score. */
export interface Conversation {
  prompt: string;
  response: string;
}

export interface RewardModelInfo extends LoadedInfo {
  head: OrmHead['head'];
}

/** Conversations scored in one native forward at most (bounds the KV pages one call holds). */
const BATCH = 64;

async function padTokenId(dir: string): Promise<number | null> {
  try {
    const raw = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as { pad_token_id?: unknown };
    return typeof raw.pad_token_id === 'number' && Number.isInteger(raw.pad_token_id) ? raw.pad_token_id : null;
  } catch {
    // prepareModel has read and validated the same file; nothing to add here.
    return null;
  }
}

export class RewardModel extends NativeHandle {
  private constructor(
    native: NativeModel,
    private readonly dir: string,
    readonly config: ModelConfig,
    readonly tokenizer: TextTokenizer,
    readonly info: RewardModelInfo,
    private readonly options: { systemPrompt: string | undefined; label: number; pad: number | null },
  ) {
    super(native, 'RewardModel');
  }

  static async load(dir: string, options: LoadRewardModelOptions = {}): Promise<RewardModel> {
    checkOptionKeys(options, LOAD_REWARD_MODEL_OPTION_KEYS, 'the loadRewardModel() options');
    const { systemPrompt, label, ...modelOptions } = options;
    const runtime = checkLoadOptions(modelOptions);
    if (systemPrompt !== undefined && typeof systemPrompt !== 'string') throw new OptionError(`Expected \`systemPrompt\` to be a string, got ${typeof systemPrompt}`);
    if (label !== undefined && (!Number.isInteger(label) || label < 0)) throw new OptionError(`Expected \`label\` to be a non-negative integer, got ${label}`);
    let head: OrmHead | undefined;
    const { native, prepared, info } = await loadNative(dir, modelOptions, (precision, onProgress) =>
      prepareModel(dir, {
        ...runtime,
        precision,
        signal: options.signal,
        onProgress,
        selectHead: (ctx) => {
          head = chooseOrmHead(ctx);
          return head.head;
        },
      }),
    );
    const chosen = head!;
    const pick = label ?? 1;
    if (chosen.outputs > 1 && pick >= chosen.outputs) {
      native.dispose();
      throw new OptionError(`Expected \`label\` to be below the head's ${chosen.outputs} labels, got ${pick}`);
    }
    if (info.outputWidth !== chosen.outputs) {
      native.dispose();
      throw new OrmFormatError(dir, `the native ${chosen.head.kind} head returns rows of ${info.outputWidth} values, expected ${chosen.outputs}`);
    }
    return new RewardModel(native, dir, prepared.config, prepared.tokenizer, { ...info, head: chosen.head }, {
      systemPrompt, label: pick, pad: await padTokenId(dir),
    });
  }

  /** The conversation's text as the reward model reads it. */
  conversationText(c: Conversation): string {
    const messages = [
      ...(this.options.systemPrompt === undefined ? [] : [{ role: 'system', content: this.options.systemPrompt }]),
      { role: 'user', content: c.prompt },
      { role: 'assistant', content: c.response },
    ];
    return this.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: false });
  }

  /** The tokens the reward is read from: the conversation up to its last non-pad token. */
  conversationTokens(c: Conversation, index = 0): Int32Array {
    if (typeof c !== 'object' || c === null || typeof c.prompt !== 'string' || typeof c.response !== 'string') {
      throw new OptionError(`conversation ${index} must be { prompt: string, response: string }`);
    }
    for (const field of ['prompt', 'response'] as const) {
      const token = this.tokenizer.specialTokenTexts.find((t) => c[field].includes(t));
      if (token !== undefined) throw new OptionError(`conversation ${index}: the ${field} contains ${JSON.stringify(token)}, a special token of the reward model's tokenizer, which text must not hold`);
    }
    const tokens = this.tokenizer.encode(this.conversationText(c), { addSpecialTokens: false });
    let end = tokens.length;
    while (end > 0 && this.options.pad !== null && tokens[end - 1] === this.options.pad) end--;
    if (end === 0) throw new OptionError(`conversation ${index} encodes to no tokens but padding`);
    checkContext(`score(): conversation ${index}`, end, this.config.maxPositionEmbeddings);
    return tokens.subarray(0, end);
  }

  /** One reward per conversation (raw head value for a one-output head, else P(label)). */
  score(conversations: readonly Conversation[], signal?: AbortSignal): Promise<number[]> {
    let inputs: Int32Array[];
    try {
      if (!Array.isArray(conversations)) throw new OptionError('score() expects an array of { prompt, response }');
      inputs = conversations.map((c, i) => this.conversationTokens(c, i));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.queue.run(async () => {
      const native = this.live();
      const width = this.info.outputWidth;
      const out: number[] = [];
      for (let start = 0; start < inputs.length; start += BATCH) {
        if (signal?.aborted) throw abortError(signal);
        const part = inputs.slice(start, start + BATCH);
        const seqs: SeqId[] = [];
        try {
          for (const tokens of part) {
            const seq = native.createSequence(0);
            seqs.push(seq);
            native.appendTokens(seq, tokens);
          }
          const rows = await native.forward(Int32Array.from(seqs), 'last');
          part.forEach((_, j) => {
            const r = ormReward(rows, j * width, width, this.options.label);
            if (r === null) throw new OrmFormatError(this.dir, `conversation ${start + j}: the head returned a non-finite value`);
            out.push(r);
          });
        } catch (err) {
          if (err instanceof OrmFormatError) throw err;
          return translateNativeError(err);
        } finally {
          if (seqs.length > 0) native.releaseMany(Int32Array.from(seqs));
        }
      }
      return out;
    });
  }

  /** Index of the highest-scored response to `prompt` (the earliest on ties), and every score: best-of-N. */
  async best(prompt: string, responses: readonly string[], signal?: AbortSignal): Promise<{ index: number; scores: number[] }> {
    if (!Array.isArray(responses) || responses.length === 0) throw new OptionError('best() needs at least one response');
    const scores = await this.score(responses.map((response) => ({ prompt, response })), signal);
    let index = 0;
    for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[index]!) index = i;
    return { index, scores };
  }
}

/** Loads an outcome reward model (Qwen2ForRewardModel, Llama/Qwen2ForSequenceClassification). */
export function loadRewardModel(dir: string, options?: LoadRewardModelOptions): Promise<RewardModel> {
  return RewardModel.load(dir, options);
}
