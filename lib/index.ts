export type { CpuInfo, IsaName, DTypeName, PrecisionName, KvStats, SeqId } from './native/addon-types.js';
export { nativeAddon } from './native/load.js';
