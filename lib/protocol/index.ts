/**
 * The wire formats of OpenAI-compatible inference servers as vLLM (and SGLang, for completions) serve
 * them: types, and small runtime checks for bodies either side receives. Shared by the RemoteBackend
 * (client) and `thinktree serve` (server). versions.ts names the vLLM sources matched.
 */
export * from './validate.js';
export * from './usage.js';
export * from './completions.js';
export * from './chat.js';
export * from './models.js';
export * from './errors.js';
export * from './pooling.js';
export * from './versions.js';
