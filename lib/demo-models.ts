/**
 * The demo models the package ships (`models/` next to `dist/`), as absolute paths resolved from this
 * module's own location, so they work from any working directory and inside node_modules.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../models/', import.meta.url));

/**
 * The shipped demo models, trained for the arithmetic word-problem task (see the package's
 * `models/README.md`): a 1.1M-parameter Llama policy, a 2.5M-parameter Qwen2 PRM, and the
 * compute-optimal calibration table fit for the pair.
 *
 *   const engine = await loadEngine(demoModels.policy, demoModels.prm);
 *
 * The 15.9M-parameter `models/policy-large` is in the repository only (not in the npm package).
 */
export const demoModels: {
  /** Policy model directory (LlamaForCausalLM, Hugging Face layout). */
  readonly policy: string;
  /** PRM directory (Qwen2ForProcessRewardModel). */
  readonly prm: string;
  /** The compute-optimal calibration table for policy + prm (`loadCalibration(demoModels.calibration)`). */
  readonly calibration: string;
  /** The arithmetic task's test split (`test-level-L.jsonl.gz`) and calibration split (`calibration.jsonl.gz`). */
  readonly data: string;
} = Object.freeze({
  policy: path.join(root, 'policy'),
  prm: path.join(root, 'prm'),
  calibration: path.join(root, 'calibration.json'),
  data: path.join(root, 'data'),
});
