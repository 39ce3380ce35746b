// Public API of thinktree.
export { Model, loadModel } from './models/model.js';
export type {
  Device,
  FinishReason,
  GenerateOptions,
  GenerateResult,
  LoadModelOptions,
  ModelInfo,
  SamplingOptions,
  StepOptions,
  StepResult,
} from './models/model.js';
export type { ModelConfig } from './models/config.js';
export type { TextTokenizer } from './models/tokenizer.js';
export type { ChatMessage, ChatTemplateOptions } from './models/chat-template.js';
export { DEFAULT_TEMPLATE_LIMITS, type TemplateLimits } from './models/template-render.js';
export type { CpuInfo, IsaName, DTypeName, PrecisionName, KvStats, SeqId } from './native/addon-types.js';
export { QUANT_TYPES, dequantizeRows, quantizeRows, quantizedBytes, type QuantType } from './models/quant/index.js';
export { nativeAddon } from './native/load.js';
export { AbortError, DisposedError, KvBudgetError, OptionError, PrmRewardError, QueueFullError, WeightsChangedError } from './errors.js';
export { DeviceUnavailableError, type DeviceRequest } from './native/cuda.js';
export * from './models/errors.js';
export * as gguf from './models/gguf/index.js';
export type * from './backends/types.js';
export * from './search/index.js';
export { loadCalibration, saveCalibration } from './eval/calibration-file.js';
export * as arithmetic from './tasks/arithmetic/index.js';
export * from './tasks/math/index.js';
export * from './models/prm/index.js';
export * from './models/orm/index.js';
export * as tpo from './tpo/index.js';
export { Engine, loadEngine, type EngineKvStats, type EngineOptions, type LoadEngineOptions, type SearchSchedulerStats } from './engine/engine.js';
export { NativeBackend, type NativeBackendOptions } from './backends/native.js';
export {
  RemoteBackend,
  RemoteBackendError,
  type RemoteBackendOptions,
  type RemoteFailure,
  type PrmTextLayout,
} from './backends/remote.js';
export * as protocol from './protocol/index.js';
export { demoModels } from './demo-models.js';
export { serve, type ServeOptions, type ServerHandle } from './server/server.js';
// The search's library defaults, and the set the CLI commands (eval, calibrate, demo, search) run with.
export { DEFAULTS as SEARCH_DEFAULTS } from './search/defaults.js';
export { EVAL_SEARCH_PARAMS as CLI_SEARCH_DEFAULTS } from './eval/defaults.js';
export * as evaluation from './evaluation.js';
export * from './viewer/index.js';
