/**
 * Everything loadPrm does before native code maps the weights: validate the options, read the
 * checkpoint, pick and bind the PRM format, and build the native spec with the format's head.
 */
import type { PrecisionName } from '../../native/addon-types.js';
import { OptionError } from '../../errors.js';
import { INT32_MAX, LOAD_MODEL_OPTION_KEYS, checkInt, checkLoadOptions, type LoadModelOptions, type RuntimeChoice } from '../lifecycle.js';
import { optionKeys } from '../../util/options.js';
import { prepareModel, type PreparedModel } from '../prepare.js';
import type { TextTokenizer } from '../tokenizer.js';
import { PRM_FORMAT_NAMES, type BoundFormat, type PrmFormatName, type PrmFormatOptions } from './format.js';
import { chooseFormat } from './formats.js';
import { PrmFormatError } from './errors.js';
import { ORM_ARCHITECTURES } from '../config.js';

/** The policy's load options (device, precision, threads, KV pool, progress, signal) plus the format's. */
export interface LoadPrmOptions extends LoadModelOptions, PrmFormatOptions {
  /** The PRM family; omitted: detected from config.json and the checkpoint's tensors. */
  format?: PrmFormatName;
}

export interface PreparedPrm {
  prepared: PreparedModel;
  format: BoundFormat;
  /** Shortest old text an incremental re-encode keeps in its window (the longest added token, at least 16). */
  minWindowChars: number;
}

export type { RuntimeChoice } from '../lifecycle.js';

function checkToken(name: string, v: unknown): void {
  if (v === undefined || typeof v === 'string') {
    if (v === '') throw new OptionError(`Expected \`${name}\` to be a non-empty string or a token id, got ""`);
    return;
  }
  checkInt(name, v, 0, INT32_MAX);
}

/** Every key loadPrm takes (the compiler checks the list against LoadPrmOptions). */
export const LOAD_PRM_OPTION_KEYS = optionKeys<LoadPrmOptions>()([
  ...(LOAD_MODEL_OPTION_KEYS as readonly (keyof LoadModelOptions)[]),
  'format',
  'stepTag',
  'goodToken',
  'badToken',
  'valueHead',
  'systemPrompt',
]);

/** Validates every option that needs no file; returns the runtime numbers with defaults applied. */
export function checkPrmOptions(options: LoadPrmOptions): RuntimeChoice {
  const runtime = checkLoadOptions(options, LOAD_PRM_OPTION_KEYS, 'the loadPrm() options');
  if (options.format !== undefined && !(PRM_FORMAT_NAMES as readonly string[]).includes(options.format)) {
    throw new OptionError(`Expected \`format\` to be one of ${PRM_FORMAT_NAMES.map((n) => `'${n}'`).join(', ')}, got ${JSON.stringify(options.format)}`);
  }
  for (const key of ['stepTag', 'valueHead', 'systemPrompt'] as const) {
    const v = options[key];
    if (v !== undefined && (typeof v !== 'string' || v === '')) {
      throw new OptionError(`Expected \`${key}\` to be a non-empty string, got ${JSON.stringify(v)}`);
    }
  }
  checkToken('goodToken', options.goodToken);
  checkToken('badToken', options.badToken);
  return runtime;
}

/** Longest added-token text that tokenizer_config.json lists (added tokens are cut out before splitting). */
function longestAddedToken(tokenizer: TextTokenizer): number {
  const decoder = tokenizer.tokenizerConfig.added_tokens_decoder;
  let longest = 0;
  if (typeof decoder === 'object' && decoder !== null) {
    for (const entry of Object.values(decoder as Record<string, unknown>)) {
      const content = (entry as { content?: unknown } | null)?.content;
      if (typeof content === 'string') longest = Math.max(longest, content.length);
    }
  }
  return longest;
}

/** Reads the checkpoint, binds the PRM format and builds the native spec; no native code runs. */
export async function preparePrm(dir: string, options: LoadPrmOptions & { precision: PrecisionName }): Promise<PreparedPrm> {
  const runtime = checkPrmOptions(options);
  let format: BoundFormat | undefined;
  const { format: name, stepTag, goodToken, badToken, valueHead, systemPrompt } = options;
  const formatOptions: PrmFormatOptions = { stepTag, goodToken, badToken, valueHead, systemPrompt };
  const prepared = await prepareModel(dir, {
    ...runtime,
    precision: options.precision,
    signal: options.signal,
    onProgress: options.onProgress,
    selectHead: (ctx) => {
      if ((ORM_ARCHITECTURES as readonly string[]).includes(ctx.config.architecture)) {
        throw new PrmFormatError(dir, `config.json names ${ctx.config.architecture}, an outcome reward model (one score per response, not per step); load it with loadRewardModel()`);
      }
      format = chooseFormat(ctx, name, formatOptions).bind({ ...ctx, options: formatOptions });
      return format.head;
    },
  });
  // selectHead always runs before prepareModel resolves.
  const bound = format!;
  return { prepared, format: bound, minWindowChars: Math.max(16, longestAddedToken(prepared.tokenizer)) };
}
