// node-llama-cpp (a devDependency, its prebuilt CPU binary) for cross-checks: loaded only when it is
// installed and its binary loads; never downloads or builds.
import type { Llama, LlamaModel } from 'node-llama-cpp';

export interface LlamaCppRuntime {
  llama: Llama;
}

/** The runtime, or the reason it is unavailable (the test then skips naming it). */
export async function loadLlamaCpp(): Promise<LlamaCppRuntime | string> {
  process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = 'true';
  let mod: typeof import('node-llama-cpp');
  try {
    mod = await import('node-llama-cpp');
  } catch (err) {
    return `node-llama-cpp is not installed (${(err as Error).message})`;
  }
  try {
    const llama = await mod.getLlama({ gpu: false, build: 'never', skipDownload: true, logLevel: mod.LlamaLogLevel.error, progressLogs: false });
    return { llama };
  } catch (err) {
    return `node-llama-cpp's prebuilt CPU binary does not load here (${(err as Error).message})`;
  }
}

/**
 * llama.cpp's logits at every position of `tokens` ([tokens.length × vocab], row-major), f32 KV cache
 * (the default f16 cache would add its own rounding), one sequence from position 0.
 */
export async function llamaCppLogits(model: LlamaModel, tokens: readonly number[], vocab: number): Promise<Float32Array> {
  const context = await model.createContext({
    contextSize: Math.max(64, tokens.length + 8),
    batchSize: Math.max(64, tokens.length),
    threads: 2,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
    flashAttention: false,
  });
  try {
    const seq = context.getSequence();
    const out = await seq.controlledEvaluate(tokens.map((t) => [t as never, { generateNext: { logits: true } }] as const));
    const rows = new Float32Array(tokens.length * vocab);
    for (let i = 0; i < tokens.length; i++) {
      const logits = out[i]?.next?.logits;
      if (logits === undefined) throw new Error(`node-llama-cpp returned no logits at position ${i}`);
      for (const [tok, v] of logits) rows[i * vocab + (tok as number)] = v;
    }
    return rows;
  } finally {
    await context.dispose();
  }
}
