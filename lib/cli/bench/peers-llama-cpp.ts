/**
 * llama.cpp's side of the peers suite, through node-llama-cpp (a devDependency, its prebuilt CPU
 * binary; never downloaded or built here). node-llama-cpp has no KV fork, so each of the B sequences
 * evaluates the prompt itself, outside the decode timing; decode runs from the first generated token's
 * request to the last token. llama.cpp keeps its default f16 KV cache.
 */
import type { Llama } from 'node-llama-cpp';
import type { PeerProtocol, PeerRates } from './peers-protocol.js';

export type LlamaCppModule = typeof import('node-llama-cpp');

/** node-llama-cpp, or the first line of why it does not import. */
export async function importLlamaCpp(): Promise<LlamaCppModule | string> {
  process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = 'true';
  try {
    // A variable specifier: node-llama-cpp is a devDependency, absent from installed packages.
    const name = 'node-llama-cpp';
    return (await import(name)) as LlamaCppModule;
  } catch (err) {
    return (err as Error).message.split('\n')[0]!;
  }
}

/** The CPU backend, quiet. */
export function openLlamaCpp(lib: LlamaCppModule): Promise<Llama> {
  return lib.getLlama({ gpu: false, build: 'never', skipDownload: true, logLevel: lib.LlamaLogLevel.error, progressLogs: false });
}

/** Runs the protocol on `file`, logging each rate as it is measured. */
export async function llamaCppRates(llama: Llama, file: string, p: PeerProtocol, log: (line: string) => void): Promise<PeerRates> {
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  const rates: PeerRates = { prompt: null, decode: new Map(), generated: new Map() };
  const promptTokens = p.prompt.length;
  const prompt = [...p.prompt] as never[];
  try {
    // B = 0: the prompt alone, on one sequence.
    for (const b of p.measurePrompt ? [0, ...p.batches] : p.batches) {
      const context = await model.createContext({
        sequences: Math.max(b, 1),
        contextSize: Math.max(b, 1) * (promptTokens + p.newTokens + 16),
        batchSize: Math.max(512, promptTokens),
        threads: { ideal: p.threads, min: p.threads },
      });
      try {
        const seqs = Array.from({ length: Math.max(b, 1) }, () => context.getSequence());
        let t = performance.now();
        await Promise.all(seqs.map((s) => s.evaluateWithoutGeneratingNewTokens(prompt)));
        if (b === 0) {
          rates.prompt = promptTokens / ((performance.now() - t) / 1e3);
          log(`peers: llama.cpp prompt ${rates.prompt.toFixed(1)} tok/s`);
          continue;
        }
        t = performance.now();
        const deadline = t + p.decodeBudgetSeconds * 1e3;
        const counts = await Promise.all(
          seqs.map(async (s) => {
            let n = 0;
            for await (const _ of s.evaluate([prompt[promptTokens - 1]!], { temperature: 0 })) {
              if (++n === p.newTokens || performance.now() > deadline) break;
            }
            return n;
          }),
        );
        const rate = counts.reduce((a, c) => a + c, 0) / ((performance.now() - t) / 1e3);
        const generated = Math.min(...counts);
        rates.decode.set(b, rate);
        rates.generated.set(b, generated);
        const short = generated < p.newTokens ? ` (stopped by the ${p.decodeBudgetSeconds} s budget at ${generated} tokens per sequence)` : '';
        log(`peers: llama.cpp decode B=${b} ${rate.toFixed(1)} tok/s${short}`);
      } finally {
        await context.dispose();
      }
    }
  } finally {
    await model.dispose();
  }
  return rates;
}
