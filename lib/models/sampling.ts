import { OptionError } from '../errors.js';
import { describeValue } from '../util/options.js';
import { INT32_MAX, checkInt } from './lifecycle.js';

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

/** The sampling parameters with their defaults, checked: the one place that says what each may be. */
export function checkSampling(o: SamplingOptions): Required<SamplingOptions> {
  const temperature = o.temperature ?? 0;
  if (typeof temperature !== 'number' || !(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new OptionError(`Expected \`temperature\` to be a finite number ≥ 0, got ${describeValue(temperature)}`);
  }
  const topK = o.topK ?? 0;
  checkInt('topK', topK, 0, INT32_MAX); // native int32: 2^32 + 1 would arrive as 1 (greedy)
  const topP = o.topP ?? 1;
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) throw new OptionError(`Expected \`topP\` to be a number in (0, 1], got ${describeValue(topP)}`);
  const minP = o.minP ?? 0;
  if (typeof minP !== 'number' || !(minP >= 0 && minP <= 1)) throw new OptionError(`Expected \`minP\` to be a number in [0, 1], got ${describeValue(minP)}`);
  return { temperature, topK, topP, minP };
}
