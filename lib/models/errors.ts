/**
 * Errors of the model loader. Each names the file it is about, so a user holding a broken checkpoint
 * knows which file to look at; messages say what was expected and what was found.
 */

import { abortError } from '../errors.js';

/** A safetensors file (or a sharded index) that does not follow the format. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
  constructor(
    readonly file: string,
    message: string,
    /** The tensor the problem is about, when there is one. */
    readonly tensor?: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/** config.json or generation_config.json is missing a field, has a bad value, or describes a model we do not run. */
export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
  constructor(
    readonly file: string,
    message: string,
    readonly field?: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/** config.json's `architectures[0]` is not one of the decoder families the native engine implements. */
export class UnsupportedArchitectureError extends ModelConfigError {
  override name = 'UnsupportedArchitectureError';
  constructor(
    file: string,
    readonly architecture: string,
    readonly supported: readonly string[],
  ) {
    super(
      file,
      `architecture ${JSON.stringify(architecture)} is not supported; thinktree runs ${supported.join(', ')}`,
      'architectures',
    );
  }
}

/** The weights on disk do not match what config.json says the model is. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(
    readonly file: string,
    message: string,
    readonly tensor?: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/** tokenizer.json / tokenizer_config.json cannot be used with this model. */
export class TokenizerError extends Error {
  override name = 'TokenizerError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/** No chat template, or the template failed to render. */
export class ChatTemplateError extends Error {
  override name = 'ChatTemplateError';
}

export { AbortError } from '../errors.js';

/** Throws an AbortError when the signal has fired; call before each unit of I/O. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal, 'model loading');
}

/** A file the loader needs is missing or unreadable; the message names the path and the OS error. */
export class FileReadError extends Error {
  override name = 'FileReadError';
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Wraps an fs error so the message names the path, what we were doing, and the OS error code. */
export function fileReadError(path: string, doing: string, err: unknown): FileReadError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return new FileReadError(path, code, `${path}: cannot ${doing} (${describeOsError(err)})`, { cause: err });
}

/** `fs` errors carry the OS code (ENOENT, EACCES); keep it in the sentence. */
export function describeOsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string') return `${e.code}: ${e.message}`;
  return String((e as Error)?.message ?? e);
}

/**
 * A forward pass produced NaN outputs (logits, log-probabilities or head rows): its weights, or the
 * activations they lead to, hold NaN or Inf. Checked where outputs cross to JavaScript, since scanning
 * every weight at load is too slow for real checkpoints.
 */
export class NonFiniteOutputError extends Error {
  override name = 'NonFiniteOutputError';
  constructor(
    /** The model's identity (info.id: directory name and hash). */
    readonly model: string,
  ) {
    super(`${model}: the model produced NaN logits: its weights may contain NaN or Inf`);
  }
}

/**
 * Tokens past the model's context (config.json `max_position_embeddings`): positions the model was
 * never trained on, whose outputs are silently wrong.
 */
export class ContextLengthError extends Error {
  override name = 'ContextLengthError';
  constructor(
    /** What would run past the context (names the call, step or input). */
    what: string,
    /** Tokens it needs. */
    readonly length: number,
    /** The model's context. */
    readonly limit: number,
  ) {
    super(`${what} needs ${length} tokens, more than the model's context of ${limit} (config.json max_position_embeddings)`);
  }
}

/** Throws ContextLengthError when `length` tokens do not fit a context of `limit` (undefined: no limit known). */
export function checkContext(what: string, length: number, limit: number | undefined): void {
  if (limit !== undefined && length > limit) throw new ContextLengthError(what, length, limit);
}

/** A GGUF file that does not follow the format, or holds something thinktree cannot run (named in the message). */
export class GgufError extends Error {
  override name = 'GgufError';
  constructor(
    readonly file: string,
    message: string,
    /** The metadata key or tensor name the problem is about, when there is one. */
    readonly field?: string,
  ) {
    super(`${file}: ${message}`);
  }
}
