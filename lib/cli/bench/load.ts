/**
 * Load on a small KV pool: N concurrent searches (or generate() calls) against the same N one at a
 * time, on the demo models with a policy pool that holds only a few searches. Admission by KV capacity
 * (lib/engine/search-scheduler.ts, the generate() page reservations) must let every one complete, and
 * the concurrent run should cost no more than the one-at-a-time run: the ratio is concurrent ÷
 * one-at-a-time, wall and CPU time, with the preemptions and shortages that the concurrent run paid.
 */
import { Engine } from '../../engine/engine.js';
import { demoModels } from '../../demo-models.js';
import type { SearchOptions } from '../../search/types.js';

export interface LoadBenchOptions {
  threads: number;
  log?: (line: string) => void;
  /** Policy KV pool sizes to run, in pages of 16 tokens. @default [96, 256, 512] */
  pools?: readonly number[];
  /** Concurrent searches. @default 32 */
  searches?: number;
  /** Concurrent generate() calls. @default 50 */
  generations?: number;
  /** Repetitions of each pair (the median ratio is reported). @default 3 */
  repeats?: number;
}

export interface LoadBenchRow {
  workload: 'beam' | 'generate';
  pages: number;
  /** Median over the repetitions of concurrent ÷ one at a time. */
  wallRatio: number;
  cpuRatio: number;
  /** Seconds of the median repetition, one at a time and concurrent. */
  aloneSeconds: number;
  concurrentSeconds: number;
  /** Of the concurrent runs, summed over the repetitions (searches only: generate() calls reserve their pages up front). */
  preemptions: number;
  shortages: number;
}

export interface LoadBenchResult {
  rows: LoadBenchRow[];
  /** The largest median wall-time ratio over the rows (the target: at most 1.2). */
  worstWallRatio: number;
}

const QUESTION = (i: number) => `Tom has ${i + 3} apples and buys ${(i % 7) + 2} more. How many apples does he have now?`;
// The demo policy's KV bytes per page of 16 tokens: 4 layers × K and V × 16 × 2 KV heads × 40 × f32.
const POLICY_PAGE_BYTES = 4 * 2 * 16 * 2 * 40 * 4;

interface Timed {
  wall: number;
  cpu: number;
}

async function timed(run: () => Promise<unknown>): Promise<Timed> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const cpu = process.cpuUsage(cpu0);
  return { wall: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchLoad(opts: LoadBenchOptions): Promise<LoadBenchResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const pools = opts.pools ?? [96, 256, 512];
  const n = opts.searches ?? 32;
  const g = opts.generations ?? 50;
  const repeats = opts.repeats ?? 3;
  const beam = (i: number): Omit<SearchOptions, 'backend'> => ({ strategy: 'beam', n: 16, beamWidth: 4, maxIterations: 8, seed: i });
  const rows: LoadBenchRow[] = [];
  log(`load: ${n} concurrent beam searches (n = 16) and ${g} concurrent generate() calls vs the same one at a time, demo models, f32`);
  for (const pages of pools) {
    const engine = await Engine.load(demoModels.policy, demoModels.prm, {
      policy: { threads: opts.threads, kvCacheBytes: pages * POLICY_PAGE_BYTES, precision: 'f32' },
      prm: { threads: opts.threads, kvCacheBytes: 64 << 20, precision: 'f32' },
    });
    try {
      const workloads: [LoadBenchRow['workload'], () => Promise<unknown>, () => Promise<unknown>][] = [
        [
          'beam',
          async () => {
            for (let i = 0; i < n; i++) await engine.search(QUESTION(i), beam(i));
          },
          () => Promise.all(Array.from({ length: n }, (_, i) => engine.search(QUESTION(i), beam(i)))),
        ],
        [
          'generate',
          async () => {
            for (let i = 0; i < g; i++) await engine.policy.generate(QUESTION(i), { seed: i, maxTokens: 128, temperature: 0.8 });
          },
          () => Promise.all(Array.from({ length: g }, (_, i) => engine.policy.generate(QUESTION(i), { seed: i, maxTokens: 128, temperature: 0.8 }))),
        ],
      ];
      for (const [workload, alone, together] of workloads) {
        const pairs: { alone: Timed; together: Timed }[] = [];
        const before = engine.schedulerStats();
        for (let r = 0; r < repeats; r++) pairs.push({ alone: await timed(alone), together: await timed(together) });
        const after = engine.schedulerStats();
        const kv = engine.kvStats();
        if (kv.policy.pagesFree !== kv.policy.pagesTotal || (kv.prm !== null && kv.prm.pagesFree !== kv.prm.pagesTotal)) {
          throw new Error(`load bench: pages left in use after the ${workload} runs on ${pages} pages`);
        }
        const wallRatios = pairs.map((p) => p.together.wall / p.alone.wall);
        const mid = pairs[wallRatios.indexOf(median(wallRatios))]!;
        const row: LoadBenchRow = {
          workload,
          pages,
          wallRatio: median(wallRatios),
          cpuRatio: median(pairs.map((p) => p.together.cpu / p.alone.cpu)),
          aloneSeconds: mid.alone.wall,
          concurrentSeconds: mid.together.wall,
          preemptions: after.preemptions - before.preemptions,
          shortages: after.shortages - before.shortages,
        };
        rows.push(row);
        log(
          `  ${workload.padEnd(8)} ${String(pages).padStart(4)} pages: one at a time ${row.aloneSeconds.toFixed(2)} s, concurrent ` +
            `${row.concurrentSeconds.toFixed(2)} s; concurrent ÷ one at a time: wall ${row.wallRatio.toFixed(2)}×, CPU ` +
            `${row.cpuRatio.toFixed(2)}× (median of ${repeats}); ${row.preemptions} preemptions, ${row.shortages} shortages`,
        );
      }
    } finally {
      engine.dispose();
    }
  }
  return { rows, worstWallRatio: Math.max(...rows.map((r) => r.wallRatio)) };
}
