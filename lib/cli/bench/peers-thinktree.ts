/**
 * thinktree's side of the peers suite: the GGUF file loaded as `thinktree run` would (prepareModel),
 * the prompt evaluated once and forked into B sequences, greedy decode timed from the request to the
 * last token.
 */
import type { NativeModel, SeqId } from '../../native/addon-types.js';
import { nativeAddon } from '../../native/load.js';
import { prepareModel } from '../../models/prepare.js';
import { greedyRequest } from './greedy.js';
import type { PeerProtocol, PeerRates } from './peers-protocol.js';
import type { ModelShape } from './random-model.js';

/** Greedy: temperature 0 on every sequence, no stop strings, EOS ignored (random weights). */
async function decodeRate(model: NativeModel, prompt: SeqId, batch: number, newTokens: number): Promise<{ rate: number; generated: number }> {
  const seqs = model.forkMany(new Int32Array(batch).fill(prompt));
  try {
    const t = performance.now();
    const res = await model.generateStep(greedyRequest(seqs, newTokens));
    return { rate: res.tokens.length / ((performance.now() - t) / 1e3), generated: res.tokens.length / batch };
  } finally {
    model.releaseMany(seqs);
  }
}

/** thinktree's CPU default: bf16 where AVX-512 BF16 exists, f32 otherwise. */
function defaultCpuPrecision(): 'f32' | 'bf16' {
  return nativeAddon().kernels.cpuInfo().avx512bf16 ? 'bf16' : 'f32';
}

/** Runs the protocol on `file` (a model of shape `shape`), logging each rate as it is measured. */
export async function thinktreeRates(file: string, shape: ModelShape, p: PeerProtocol, log: (line: string) => void): Promise<PeerRates> {
  // Pages of 16 tokens for the prompt and every sequence's new tokens, with slack for partly filled pages.
  const kvBytesPerToken = shape.layers * 2 * shape.kvHeads * shape.headDim * 4;
  const pages = Math.ceil(p.prompt.length / 16) + Math.max(...p.batches) * (Math.ceil(p.newTokens / 16) + 2) + 4;
  const { spec } = await prepareModel(file, { threads: p.threads, kvCacheBytes: kvBytesPerToken * 16 * pages, pageTokens: 16, precision: defaultCpuPrecision() });
  const model = await nativeAddon().loadModel(spec);
  const rates: PeerRates = { prompt: null, decode: new Map(), generated: new Map() };
  try {
    const seq = model.createSequence(1);
    model.appendTokens(seq, Int32Array.from(p.prompt));
    const t = performance.now();
    await model.forward(Int32Array.of(seq), 'last');
    if (p.measurePrompt) {
      rates.prompt = p.prompt.length / ((performance.now() - t) / 1e3);
      log(`peers: thinktree prompt ${rates.prompt.toFixed(1)} tok/s`);
    }
    for (const b of p.batches) {
      const { rate, generated } = await decodeRate(model, seq, b, p.newTokens);
      rates.decode.set(b, rate);
      rates.generated.set(b, generated);
      log(`peers: thinktree decode B=${b} ${rate.toFixed(1)} tok/s`);
    }
    model.release(seq);
  } finally {
    model.dispose();
  }
  return rates;
}
