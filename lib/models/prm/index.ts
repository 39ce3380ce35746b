// Process reward models: formats, loading, incremental scoring over the PRM's own KV cache.
export { Prm, loadPrm } from './prm.js';
export type { PrmInfo, PrmNodeId, PrmScores } from './prm.js';
export { PRM_FORMAT_NAMES, checkStepTexts, rewardOf } from './format.js';
export type { BoundFormat, PrmFormat, PrmFormatName, PrmFormatOptions, PrmLayout, RewardRule, StepText } from './format.js';
export { PRM_FORMATS, QWEN_PRM_SYSTEM, chooseFormat } from './formats.js';
export { TokenComposer } from './compose.js';
export type { Encode, Extension, Tokenized } from './compose.js';
export { checkPrmOptions, preparePrm } from './prepare-prm.js';
export type { LoadPrmOptions, PreparedPrm } from './prepare-prm.js';
export { PrmFormatError, PrmNodeError, PrmRewardError } from './errors.js';
