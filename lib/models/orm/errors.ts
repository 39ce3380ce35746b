/** The checkpoint is not an outcome reward model thinktree can read, or its output made no reward. */
export class OrmFormatError extends Error {
  override name = 'OrmFormatError';
  constructor(
    /** The model directory the problem is about. */
    readonly dir: string,
    message: string,
  ) {
    super(`${dir}: ${message}`);
  }
}
