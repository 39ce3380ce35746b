import os from 'node:os';
import { benchSharedPrefixAttention } from '../bench/attention.js';
import { benchCuda, benchCudaModel } from '../bench/cuda.js';
import { benchDecode } from '../bench/decode.js';
import { benchGemmShapes } from '../bench/gemm.js';
import { benchLoad } from '../bench/load.js';
import { measureMachine } from '../bench/machine.js';
import { benchPeers } from '../bench/peers.js';
import { benchPrmScoring } from '../bench/prm.js';
import { benchPrmQuantized } from '../bench/prm-quant.js';
import { benchServe } from '../bench/serve.js';
import { nativeKernels } from '../../native/kernels.js';
import { didYouMean, intFlag, parseFlags, str, UsageError, withUsage, type CliIo } from '../flags.js';
import type { Command } from './types.js';
import { benchProfile, type ProfileColumn, type ProfileRow } from '../bench/profile.js';
import { MODEL_SHAPES, type ModelShapeName } from '../bench/random-model.js';
import { QUANT_TYPES, type QuantType } from '../../models/quant/index.js';

const SUITES = ['gemm', 'decode', 'profile', 'peers', 'attention', 'prm', 'serve', 'load', 'cuda'] as const;
type Suite = (typeof SUITES)[number];

const SHAPES = Object.keys(MODEL_SHAPES) as ModelShapeName[];

const HELP = `Usage: thinktree bench [--threads N] [--only ${SUITES.join(',')}] [--shape ${SHAPES.join('|')}]

Measures the machine's limits (FMA peak, read bandwidth), then the kernels and the engine against them.
Reports ratios measured in this run (ours vs a baseline, ours vs the machine's limit), not pass/fail.

  gemm       GEMM at Qwen2.5-0.5B MLP shapes, BF16 weights: GFLOP/s and fraction of the FMA peak
  decode     decode tokens/s of a random BF16 model (Qwen2.5-0.5B's shape, or --shape) at batch 1, 4,
             16, 64; BF16 vs Q8_0 vs Q4_K (quantized on load) at batch 1 and 16, each against its
             bandwidth bound
  profile    where a decode step's time goes, by operation class, at batch 1, 16 and 64, against
             the roofline (BF16 weights, or --weights)
  peers      the same model as BF16, Q8_0 and Q4_K GGUF files through thinktree and llama.cpp
             (node-llama-cpp, when installed): prompt and greedy decode tokens/s, BF16 at B = 1, 4, 16,
             Q8_0 and Q4_K at B = 1, 16, thinktree ÷ llama.cpp per file
  attention  64 sequences sharing a 2048-token prefix: shared-prefix split vs per-sequence attention
  prm        beam-shaped PRM scoring: incremental over the PRM's KV tree vs full re-encoding per step;
             a Q8_0 PRM body vs BF16 (time and max |Δreward|)
  serve      16 concurrent beam searches on the demo models over loopback: in process vs thinktree serve
             (search as a model); the RemoteBackend against serve with the prefix cache on vs off
  load       32 concurrent beam searches and 50 generate() calls on small KV pools (96 to 512 pages)
             vs the same one at a time: every one completes; concurrent ÷ one-at-a-time time
  cuda       GPU kernels (only with a usable GPU): decode attention vs copy bandwidth, cascade vs
             per-sequence attention at batch 128 prefix 16K, sampling over vocab 151936 at batch 1-512

Options:
  --threads N    kernel threads (default: all cores)
  --only S[,S]   run only these suites (default all)
  --shape NAME   the random model of decode and profile: ${SHAPES.join(', ')} (default ${SHAPES[0]});
                 the other suites keep Qwen2.5-0.5B's shapes
  --weights T    the weights of profile: bf16 (default) or a type to quantize to on load
                 (${QUANT_TYPES.join(', ')})
  -h, --help     show this help
`;

const pct = (f: number): string => `${(100 * f).toFixed(0)}%`;

const FLAGS = { threads: { type: 'string' }, only: { type: 'string' }, shape: { type: 'string' }, weights: { type: 'string' } } as const;

async function runBench(argv: string[], io: CliIo): Promise<number> {
  const values = parseFlags(argv, FLAGS);
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const threads = intFlag('threads', str(values, 'threads'), os.availableParallelism());
  const only = (str(values, 'only')?.split(',') ?? [...SUITES]) as Suite[];
  for (const s of only) {
    if (!SUITES.includes(s)) throw new UsageError(`--only: unknown suite '${s}' (known: ${SUITES.join(', ')})${didYouMean(s, SUITES)}`);
  }
  const shapeName = str(values, 'shape') ?? SHAPES[0]!;
  if (!(SHAPES as string[]).includes(shapeName))
    throw new UsageError(`--shape: unknown shape '${shapeName}' (known: ${SHAPES.join(', ')})${didYouMean(shapeName, SHAPES)}`);
  const shape = MODEL_SHAPES[shapeName as ModelShapeName].shape;
  const weightsName = str(values, 'weights') ?? 'bf16';
  const weightNames: readonly string[] = ['bf16', ...QUANT_TYPES];
  if (!weightNames.includes(weightsName))
    throw new UsageError(`--weights: unknown weights '${weightsName}' (known: ${weightNames.join(', ')})${didYouMean(weightsName, weightNames)}`);
  const weights = weightsName as 'bf16' | QuantType;
  const log = (line: string) => io.stdout(line + '\n');
  const summary: string[] = [];

  const machine = await measureMachine(threads);
  const cpu = nativeKernels().cpuInfo();
  log(
    `machine: ISA ${cpu.bestIsa} (avx2 ${cpu.avx2 ? 'yes' : 'no'}, avx512 ${cpu.avx512 ? 'yes' : 'no'}, avx512bf16 ` +
      `${cpu.avx512bf16 ? 'yes' : 'no'}), ${threads} threads, f32 FMA peak ${machine.fmaPeakF32.toFixed(1)} GFLOP/s, bf16 peak ` +
      `${machine.fmaPeakBf16.toFixed(1)} GFLOP/s, read bandwidth ${machine.readBandwidth.toFixed(1)} GB/s\n`,
  );

  if (only.includes('gemm')) {
    const rows = await benchGemmShapes({ threads, log, machine });
    for (const r of rows.filter((r) => r.m === 64)) {
      summary.push(`gemm 64×${r.n}×${r.k} ${r.precision}${r.packed ? ' packed' : ''}: ${r.gflops.toFixed(1)} GFLOP/s = ${pct(r.peakFraction)} of peak`);
    }
    // An AVX-512 host also runs the kernels AVX2-only hosts get, at 64 tokens, against its ymm peak.
    if (cpu.avx2 && cpu.bestIsa !== 'avx2') {
      log('');
      const avx2 = await benchGemmShapes({ threads, log, machine, isa: 'avx2', tokens: [64] });
      for (const r of avx2)
        summary.push(`gemm 64×${r.n}×${r.k} ${r.precision}, AVX2 code path: ${r.gflops.toFixed(1)} GFLOP/s = ${pct(r.peakFraction)} of the AVX2 peak`);
    }
    log('');
  }
  if (only.includes('decode')) {
    const res = await benchDecode({ threads, log, bandwidthGBps: machine.readBandwidth, peaks: machine, shape });
    const row = (p: string, b: number) => res.rows.find((r) => r.precision === p && r.batch === b);
    const at = (p: string, b: number) => row(p, b)?.tokensPerSecond ?? NaN;
    for (const p of ['f32', 'bf16']) {
      const long = res.longPrefill.find((l) => l.precision === p);
      summary.push(
        `decode ${p}: batch 1 ${at(p, 1).toFixed(1)} tok/s = ${pct((at(p, 1) * res.weightBytes) / ((row(p, 1)?.bandwidthGBps ?? NaN) * 1e9))} of the ` +
          `bandwidth bound; batch 16 ${pct(row(p, 16)?.ofRoofline ?? NaN)} of the roofline, batch 64 ${pct(row(p, 64)?.ofRoofline ?? NaN)}; ` +
          `batch 16 / batch 1 = ${(at(p, 16) / at(p, 1)).toFixed(1)}×; prefill of ${long?.tokens} tokens ${pct(long?.ofPeak ?? NaN)} of the ${p} peak`,
      );
    }
    const bf16Rate = (b: number) => res.weightTypes.find((w) => w.weights === 'bf16')?.rows.find((r) => r.batch === b)?.tokensPerSecond ?? NaN;
    for (const w of res.weightTypes.filter((w) => w.weights !== 'bf16')) {
      const r1 = w.rows.find((r) => r.batch === 1), r16 = w.rows.find((r) => r.batch === 16);
      summary.push(
        `decode ${w.weights}: batch 1 ${r1?.tokensPerSecond.toFixed(1)} tok/s = ${pct(r1?.ofBound ?? NaN)} of its bound, ` +
          `${((r1?.tokensPerSecond ?? NaN) / bf16Rate(1)).toFixed(2)}× BF16; batch 16 ${((r16?.tokensPerSecond ?? NaN) / bf16Rate(16)).toFixed(2)}× BF16`,
      );
    }
    log('');
  }
  if (only.includes('profile')) {
    const { columns: cols, noSpin, limits } = await benchProfile({ threads, log, machine, shape, weights });
    const share = (c: ProfileColumn, rows: ProfileRow[]) => pct(rows.reduce((a, r) => a + c.rows[r], 0) / c.stepMs);
    summary.push(
      `profile (${weights} decode step): ` +
        cols
          .map((c) => `B=${c.batch} ${c.stepMs.toFixed(1)} ms: GEMMs ${share(c, ['gemmQkv', 'gemmO', 'gemmGateUp', 'gemmDown'])}, head ${share(c, ['head'])}, ` +
            `pool waits ${share(c, ['poolWait'])}, sampling ${share(c, ['sample'])}`)
          .join('; ') +
        (noSpin !== null && cols[0]?.batch === 1 ? `; B=1 step without ÷ with the spinning pool ${(noSpin.stepMs / cols[0].stepMs).toFixed(2)}` : ''),
    );
    summary.push(
      `profile against the machine: ` +
        limits
          .map((l) => `B=${l.batch} GEMMs ${pct(l.gemmOfPeak)} of peak, step ÷ GEMMs ${l.stepOverGemm.toFixed(2)}, step ${pct(l.ofRoofline)} of roofline`)
          .join('; '),
    );
    log('');
  }
  if (only.includes('peers')) {
    const res = await benchPeers({ threads, log });
    for (const t of res?.types ?? []) {
      summary.push(
        `peers ${t.type} (same GGUF, thinktree ÷ llama.cpp): prompt ${(t.prompt.thinktree / t.prompt.llamaCpp).toFixed(2)}×; ` +
          t.decode
            .map((r) => `decode B=${r.batch} ${(r.thinktree / r.llamaCpp).toFixed(2)}×` + (r.llamaCppTokens < t.newTokens ? ` (llama.cpp over ${r.llamaCppTokens} tokens)` : ''))
            .join(', '),
      );
    }
    log('');
  }
  if (only.includes('attention')) {
    const res = benchSharedPrefixAttention({ threads, log, fmaPeakGflops: machine.fmaPeakF32 });
    const shared = res.rows.find((r) => r.sharedPrefix);
    summary.push(
      `shared-prefix attention: ${res.speedup.toFixed(1)}× faster than per-sequence (ceiling at the FMA peak ` +
        `${res.speedupCeiling?.toFixed(1)}×); ${pct((shared?.gflops ?? 0) / machine.fmaPeakF32)} of FMA peak; effective ` +
        `${shared?.effectiveGBps.toFixed(1)} GB/s = ${pct((shared?.effectiveGBps ?? 0) / machine.readBandwidth)} of read bandwidth; ` +
        `bf16 KV ${res.bf16KvSpeedup.toFixed(2)}× f32 KV per-sequence; beam-shaped tree, every level shared ${res.beamTreeSpeedup.toFixed(2)}× the first fork only`,
    );
    log('');
  }
  if (only.includes('prm')) {
    const res = await benchPrmScoring({ threads, log });
    const last = res.steps[res.steps.length - 1];
    summary.push(
      `PRM scoring: ${res.tokenRatio.toFixed(1)}× fewer tokens, ${res.timeRatio.toFixed(1)}× less time than full ` +
        `re-encoding (step ${last.step} alone: ${(last.fullSeconds / last.incrementalSeconds).toFixed(1)}×)`,
    );
    log('');
    const quant = await benchPrmQuantized({ threads, log });
    summary.push(
      `PRM scoring with a Q8_0 body: ${(quant.bf16Seconds / quant.q8Seconds).toFixed(2)}× BF16's speed, max |Δreward| ` +
        `${quant.maxRewardDelta.toExponential(1)} over ${quant.candidatesScored} candidates`,
    );
    log('');
  }
  if (only.includes('serve')) {
    const res = await benchServe({ threads, log });
    summary.push(
      `serve: search as a model ${res.overhead.toFixed(2)}× the in-process time; prefix cache ${res.prmCacheRatio.toFixed(1)}× ` +
        `fewer PRM tokens for a resubmitting client; re-encoding over HTTP ${res.fieldVsOursPrmTokens.toFixed(1)}× the PRM tokens ` +
        `of the in-process KV tree; PRM over /pooling at 8 steps ${res.prmDepthRatios[7]!.toFixed(1)}× fewer tokens with the prefix cache`,
    );
    log('');
  }
  if (only.includes('load')) {
    const res = await benchLoad({ threads, log });
    summary.push(
      `load: concurrent ÷ one at a time on small KV pools (wall, median of 3): ` +
        res.rows.map((r) => `${r.workload} ${r.pages} pages ${r.wallRatio.toFixed(2)}×`).join(', ') +
        `; worst ${res.worstWallRatio.toFixed(2)}×`,
    );
    log('');
  }
  if (only.includes('cuda')) {
    const res = benchCuda(log);
    if (res !== null) {
      const long = res.decode.filter((r) => r.context >= 4096);
      summary.push(
        `cuda decode attention at context ≥ 4K: ${long.map((r) => pct(r.fraction)).join(', ')} of copy bandwidth; ` +
          `cascade at prefix 16K batch 128: ${res.cascade.speedup.toFixed(1)}× per-sequence`,
      );
    }
    const model = await benchCudaModel(log, { threads });
    if (model !== null) {
      summary.push(
        `cuda end to end (0.5B shape): decode ${model.decode.map((r) => `batch ${r.batch} ${r.speedup.toFixed(1)}×`).join(', ')}, ` +
          `beam search ${model.beam.speedup.toFixed(1)}× the CPU backend`,
      );
    }
    log('');
  }
  log('summary:');
  for (const s of summary) log(`  ${s}`);
  return 0;
}

export const benchCommand: Command = {
  summary: 'measure kernels and engine against the machine limits (ratios)',
  run: (argv, io) => withUsage('bench', HELP, io, () => runBench(argv, io)),
};
