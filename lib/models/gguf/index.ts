/** GGUF files: our reader and writer, the metadata → model mapping, and the Hugging Face → GGUF exporter. */
export { parseGguf, readGgufHeader, readGgufTensorBytes, type GgufFile, type GgufTensorInfo } from './reader.js';
export { encodeGguf, writeGguf, type GgufTensorInput, type GgufWriteOptions } from './writer.js';
export { exportGguf, GGUF_TARGET_TYPES, type ExportGgufOptions, type GgufTargetType } from './export.js';
export { GGUF_ARCHITECTURES, type GgufArchitecture } from './model-config.js';
export { SUPPORTED_GGUF_PRE_TOKENIZERS } from './tokenizer.js';
export { GGML_TYPES, type GgmlTypeInfo, type GgufValue, type GgufScalar, type GgufValueTypeName } from './format.js';
