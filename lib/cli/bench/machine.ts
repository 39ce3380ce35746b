import { nativeKernels } from '../../native/kernels.js';

/** What this machine can do at most, measured with the addon's own thread pool. */
export interface MachineLimits {
  /** GFLOP/s of f32 fused multiply-add over all threads (the widest vectors the CPU has). */
  fmaPeakF32: number;
  /** GFLOP/s of the bf16 dot product (AVX512_BF16); the f32 figure on CPUs without it. */
  fmaPeakBf16: number;
  /** GB/s (1e9 bytes) reading a buffer wider than the caches with all threads. */
  readBandwidth: number;
}

export interface MeasureMachineOptions {
  /**
   * Measurements per figure; the best is kept, because other work on the machine can only lower a
   * peak, never raise it.
   * @default 3
   */
  repeats?: number;
  /**
   * Bytes streamed by the bandwidth measurement: wide enough that no cache level holds it.
   * @default 512 MiB
   */
  bufferBytes?: number;
}

function expectPositiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`Expected \`${name}\` to be a positive integer, got ${value}`);
}

/** Lets pending I/O run between the blocking native measurements. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function best(repeats: number, measure: () => number): Promise<number> {
  let top = 0;
  for (let i = 0; i < repeats; i++) {
    top = Math.max(top, measure());
    await yieldToEventLoop();
  }
  return top;
}

/** Measures the FMA peak (f32 and bf16) and the read bandwidth with `threads` threads. */
export async function measureMachine(threads: number, options: MeasureMachineOptions = {}): Promise<MachineLimits> {
  expectPositiveInteger(threads, 'threads');
  const repeats = options.repeats ?? 3;
  const bufferBytes = options.bufferBytes ?? 512 * 2 ** 20;
  expectPositiveInteger(repeats, 'repeats');
  expectPositiveInteger(bufferBytes, 'bufferBytes');
  const k = nativeKernels();
  const fmaPeakF32 = await best(repeats, () => k.benchFmaPeak('f32', threads));
  const fmaPeakBf16 = k.cpuInfo().avx512bf16 ? await best(repeats, () => k.benchFmaPeak('bf16', threads)) : fmaPeakF32;
  const readBandwidth = await best(repeats, () => k.benchReadBandwidth(bufferBytes, threads));
  return { fmaPeakF32, fmaPeakBf16, readBandwidth };
}
