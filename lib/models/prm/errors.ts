/** Errors of the PRM loader and of PRM scoring. */

export { PrmRewardError } from '../../errors.js';

/** The PRM format cannot be detected, does not fit the checkpoint, or is misconfigured. */
export class PrmFormatError extends Error {
  override name = 'PrmFormatError';
  constructor(
    /** The model directory the problem is about. */
    readonly dir: string,
    message: string,
  ) {
    super(`${dir}: ${message}`);
  }
}

/** A PRM node id that is not live: released, or never returned by this Prm. */
export class PrmNodeError extends Error {
  override name = 'PrmNodeError';
  constructor(readonly node: number) {
    super(`PRM node ${node} is not live (it was released, or this Prm never created it)`);
  }
}
