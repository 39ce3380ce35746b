import { describe, expect, it } from 'vitest';
import type { IsaName } from '../../lib/native/addon-types.js';
import type { AttentionArgs } from '../../lib/native/kernel-types.js';
import { nativeKernels } from '../../lib/native/kernels.js';
import { maxAbsDiff } from '../helpers/reference-llama.js';
import { rng } from '../helpers/tiny-model.js';

const kernels = nativeKernels();
const cpu = kernels.cpuInfo();
/** Every kernel variant this host can run. */
const variants: IsaName[] = [
  'scalar',
  ...(cpu.avx2 ? ['avx2' as const] : []),
  ...(cpu.avx512 ? ['avx512' as const] : []),
  ...(cpu.avx512bf16 ? ['avx512bf16' as const] : []),
];

interface Shape {
  pageTokens: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  slidingWindow?: number;
}

/** Naive attention in float64 straight from the definition, reading keys through the page table. */
function naiveAttention(a: AttentionArgs): Float64Array {
  const { pageTokens: P, numHeads: H, numKvHeads: KVH, headDim: D } = a;
  const group = H / KVH;
  const out = new Float64Array(a.q.length);
  for (let s = 0; s + 1 < a.queryIndptr.length; s++) {
    const q0 = a.queryIndptr[s], q1 = a.queryIndptr[s + 1], L = a.seqLens[s];
    const table = a.pageIndices.subarray(a.pageIndptr[s], a.pageIndptr[s + 1]);
    const at = (pos: number, h: number) => ((table[Math.floor(pos / P)] * P + (pos % P)) * KVH + h) * D;
    for (let r = q0; r < q1; r++) {
      const p = L - (q1 - r); // queries are the sequence's last positions
      const first = a.slidingWindow > 0 ? Math.max(0, p - a.slidingWindow + 1) : 0;
      for (let hq = 0; hq < H; hq++) {
        const hk = Math.floor(hq / group);
        const scores: number[] = [];
        for (let j = first; j <= p; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += a.q[(r * H + hq) * D + d] * a.kPages[at(j, hk) + d];
          scores.push(dot / Math.sqrt(D));
        }
        const mx = Math.max(...scores);
        const e = scores.map((x) => Math.exp(x - mx));
        const z = e.reduce((x, y) => x + y, 0);
        for (let j = first; j <= p; j++)
          for (let d = 0; d < D; d++) out[(r * H + hq) * D + d] += (e[j - first] / z) * a.vPages[at(j, hk) + d];
      }
    }
  }
  return out;
}

interface SeqPlan {
  /** Keys in the sequence. */
  len: number;
  /** Query rows (its last positions). */
  queries: number;
  /** Take the first `shared` pages from this earlier sequence's table (a fork). */
  forkOf?: number;
  shared?: number;
}

/** Random pages and page tables; forks reuse their parent's leading page ids. */
function buildArgs(shape: Shape, plans: SeqPlan[], seed: number, sharedPrefix = true): AttentionArgs {
  const r = rng(seed);
  const { pageTokens: P, numHeads: H, numKvHeads: KVH, headDim: D } = shape;
  const tables: number[][] = [];
  let nextPage = 0;
  for (const p of plans) {
    const pages = Math.ceil(p.len / P);
    const t = p.forkOf !== undefined ? tables[p.forkOf].slice(0, p.shared) : [];
    while (t.length < pages) t.push(nextPage++);
    tables.push(t);
  }
  // Shuffle physical page ids so tables are not contiguous.
  const perm = Array.from({ length: nextPage }, (_, i) => i);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const pageFloats = P * KVH * D;
  const kPages = Float32Array.from({ length: nextPage * pageFloats }, () => r() * 2 - 1);
  const vPages = Float32Array.from({ length: nextPage * pageFloats }, () => r() * 2 - 1);
  const tokens = plans.reduce((n, p) => n + p.queries, 0);
  const q = Float32Array.from({ length: tokens * H * D }, () => (r() * 2 - 1) * 2);
  const pageIndptr = [0];
  const pageIndices: number[] = [];
  const queryIndptr = [0];
  tables.forEach((t, i) => {
    pageIndices.push(...t.map((x) => perm[x]));
    pageIndptr.push(pageIndices.length);
    queryIndptr.push(queryIndptr[i] + plans[i].queries);
  });
  return {
    q,
    kPages,
    vPages,
    pageTokens: P,
    numHeads: H,
    numKvHeads: KVH,
    headDim: D,
    pageIndptr: Int32Array.from(pageIndptr),
    pageIndices: Int32Array.from(pageIndices),
    seqLens: Int32Array.from(plans.map((p) => p.len)),
    queryIndptr: Int32Array.from(queryIndptr),
    slidingWindow: shape.slidingWindow ?? 0,
    sharedPrefix,
    threads: 2,
  };
}

function expectNaive(args: AttentionArgs): void {
  expect(maxAbsDiff(kernels.attention(args), naiveAttention(args))).toBeLessThanOrEqual(1e-5);
}

const gqa: Shape = { pageTokens: 4, numHeads: 8, numKvHeads: 2, headDim: 16 };

describe('paged attention kernel', () => {
  it('matches naive attention for decode queries over random page tables (GQA 4:1)', () => {
    expectNaive(buildArgs(gqa, [{ len: 1, queries: 1 }, { len: 7, queries: 1 }, { len: 13, queries: 1 }, { len: 4, queries: 1 }], 1));
  });

  it('matches naive causal attention for prefill rows', () => {
    expectNaive(buildArgs(gqa, [{ len: 9, queries: 9 }, { len: 14, queries: 5 }, { len: 3, queries: 2 }], 2));
  });

  it('matches naive attention with one kv head per query head (no grouping)', () => {
    expectNaive(buildArgs({ pageTokens: 3, numHeads: 3, numKvHeads: 3, headDim: 8 }, [{ len: 10, queries: 4 }, { len: 5, queries: 1 }], 3));
  });

  it('matches naive attention with a sliding window', () => {
    expectNaive(buildArgs({ ...gqa, slidingWindow: 5 }, [{ len: 17, queries: 6 }, { len: 12, queries: 1 }, { len: 3, queries: 3 }], 4));
  });

  it('matches naive attention for a head size that is not a multiple of 8', () => {
    expectNaive(buildArgs({ pageTokens: 5, numHeads: 4, numKvHeads: 2, headDim: 12 }, [{ len: 11, queries: 3 }, { len: 6, queries: 1 }], 5));
  });

  it('matches naive attention past one 256-key work chunk', () => {
    expectNaive(buildArgs({ pageTokens: 16, numHeads: 4, numKvHeads: 2, headDim: 32 }, [{ len: 600, queries: 1 }, { len: 300, queries: 20 }], 6));
  });

  it('matches naive attention for forks sharing a prefix (shared-prefix path)', () => {
    const plans: SeqPlan[] = [
      { len: 22, queries: 1 },
      { len: 25, queries: 1, forkOf: 0, shared: 5 },
      { len: 21, queries: 1, forkOf: 0, shared: 5 },
      { len: 30, queries: 3, forkOf: 0, shared: 3 },
      { len: 9, queries: 1 },
    ];
    expectNaive(buildArgs(gqa, plans, 7));
  });

  it('gives the same output with the shared-prefix split on and off', () => {
    const plans: SeqPlan[] = [{ len: 300, queries: 1 }];
    for (let i = 0; i < 12; i++) plans.push({ len: 300 + 1 + i * 3, queries: 1 + (i % 3), forkOf: 0, shared: 300 / 4 - (i % 2) });
    plans.push({ len: 40, queries: 1 });
    const on = kernels.attention(buildArgs(gqa, plans, 8, true));
    const off = kernels.attention(buildArgs(gqa, plans, 8, false));
    expect(maxAbsDiff(on, off)).toBeLessThanOrEqual(1e-5);
  });

  it('gives the same output with the shared-prefix split on and off under a sliding window', () => {
    const shape = { ...gqa, slidingWindow: 7 };
    const plans: SeqPlan[] = [{ len: 40, queries: 1 }];
    for (let i = 0; i < 5; i++) plans.push({ len: 41 + i, queries: 2, forkOf: 0, shared: 10 });
    const on = kernels.attention(buildArgs(shape, plans, 9, true));
    expect(maxAbsDiff(on, naiveAttention(buildArgs(shape, plans, 9, true)))).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(on, kernels.attention(buildArgs(shape, plans, 9, false)))).toBeLessThanOrEqual(1e-5);
  });

  it('rejects a page index outside kPages', () => {
    const args = buildArgs(gqa, [{ len: 5, queries: 1 }], 10);
    args.pageIndices[0] = 1000;
    expect(() => kernels.attention(args)).toThrow(/pageIndices\[0\]` = 1000 is not a page/);
  });

  it('rejects a sequence length beyond its pages', () => {
    const args = buildArgs(gqa, [{ len: 5, queries: 1 }], 11);
    args.seqLens[0] = 9;
    expect(() => kernels.attention(args)).toThrow(/seqLens\[0\]/);
  });
});

/** x rounded to the nearest bf16 (ties to even), as the KV cache stores it in bf16 mode. */
function roundBf16(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  const u = new Uint32Array(out.buffer);
  const src = new Uint32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < x.length; i++) {
    const b = src[i]!;
    u[i] = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) << 16;
  }
  return out;
}

describe('paged attention over a bf16 KV cache', () => {
  const exactIsa = variants.filter((v) => v !== 'avx512bf16').at(-1);
  const shapes: [string, Shape, SeqPlan[]][] = [
    ['decode rows over forks (shared prefix, block variant)', { pageTokens: 4, numHeads: 8, numKvHeads: 2, headDim: 32 }, [
      { len: 300, queries: 1 }, { len: 305, queries: 1, forkOf: 0, shared: 75 }, { len: 290, queries: 1, forkOf: 0, shared: 72 },
      ...Array.from({ length: 16 }, () => ({ len: 310, queries: 1, forkOf: 0, shared: 75 })),
    ]],
    ['prefill rows with a sliding window', { pageTokens: 4, numHeads: 4, numKvHeads: 4, headDim: 16, slidingWindow: 7 }, [{ len: 40, queries: 40 }, { len: 9, queries: 3 }]],
    ['a head size that is not a multiple of 8', { pageTokens: 3, numHeads: 6, numKvHeads: 2, headDim: 12 }, [{ len: 20, queries: 5 }, { len: 7, queries: 1 }]],
  ];
  for (const [what, shape, plans] of shapes) {
    it(`equals f32 attention over the bf16-rounded pages exactly: ${what}`, () => {
      // The best variant that keeps f32 arithmetic (avx512bf16's block items score in bf16: tested below).
      const args = { ...buildArgs(shape, plans, 41), isa: exactIsa };
      const rounded = { ...args, kPages: roundBf16(args.kPages), vPages: roundBf16(args.vPages) };
      // Widening bf16 to f32 is exact, so the two runs see identical keys and values.
      expect(kernels.attention({ ...args, kvDtype: 'bf16' })).toEqual(kernels.attention(rounded));
      // And the rounding error stays within bf16's relative precision of the f32 result.
      expect(maxAbsDiff(kernels.attention({ ...args, kvDtype: 'bf16' }), naiveAttention(args))).toBeLessThanOrEqual(2e-2);
      expect(maxAbsDiff(kernels.attention({ ...args, kvDtype: 'f32' }), naiveAttention(args))).toBeLessThanOrEqual(1e-5);
    });
  }

  it('refuses an unknown kvDtype', () => {
    const args = buildArgs(gqa, [{ len: 3, queries: 1 }], 5);
    expect(() => kernels.attention({ ...args, kvDtype: 'f16' as 'bf16' })).toThrow("Expected `args.kvDtype` to be 'f32' or 'bf16'");
  });
});

describe('shared-prefix cascade over the tree of pages', () => {
  // A beam-shaped tree (page 4 tokens): a 64-token prompt (16 pages); 4 beams forked from it that each
  // add 8 pages; under each beam 4 sub-beams that add 3 more pages; each sub-beam writes 5 tokens of
  // its own. Every full page used by two or more sequences must be read once per kv head, whatever
  // level of the tree it sits at.
  const shape: Shape = { pageTokens: 4, numHeads: 8, numKvHeads: 2, headDim: 16 };
  const plans: SeqPlan[] = [{ len: 64, queries: 1 }];
  for (let b = 0; b < 4; b++) {
    const beam = plans.length;
    plans.push({ len: 96, queries: 1, forkOf: 0, shared: 16 });
    for (let s = 0; s < 4; s++) plans.push({ len: 113, queries: 1, forkOf: beam, shared: 24 });
  }

  /** How many times the plan reads each physical page's keys, per kv head. */
  function pageReads(args: AttentionArgs): Map<string, number> {
    const plan = kernels.attentionPlan(args);
    const reads = new Map<string, number>();
    for (let i = 0; i < plan.items.length; i += 6) {
      const [seq, head, k0, k1] = plan.items.subarray(i, i + 4);
      const table = args.pageIndices.subarray(args.pageIndptr[seq], args.pageIndptr[seq + 1]);
      for (let k = k0; k < k1; k++) {
        if (k % args.pageTokens !== 0) continue; // count each page once, at its first key
        const key = `${table[k / args.pageTokens]}/${head}`;
        reads.set(key, (reads.get(key) ?? 0) + 1);
      }
    }
    return reads;
  }

  it('reads every shared page once per kv head at every level, and matches naive attention', () => {
    const args = buildArgs(shape, plans, 77);
    const users = new Map<number, number>();
    for (let s = 0; s < plans.length; s++) {
      const full = Math.floor(plans[s].len / shape.pageTokens);
      for (const p of args.pageIndices.subarray(args.pageIndptr[s], args.pageIndptr[s] + full)) users.set(p, (users.get(p) ?? 0) + 1);
    }
    const reads = pageReads(args);
    let sharedPages = 0;
    for (const [page, n] of users) {
      if (n < 2) continue;
      sharedPages++;
      for (let h = 0; h < shape.numKvHeads; h++) expect(reads.get(`${page}/${h}`), `page ${page} head ${h} (${n} users)`).toBe(1);
    }
    expect(sharedPages).toBe(16 + 4 * 8); // the prompt's pages and each beam's own 8
    expectNaive(args);
    // Without the split every sequence reads all its pages itself.
    const flat = pageReads({ ...args, sharedPrefix: false });
    expect(flat.get(`${args.pageIndices[0]}/0`)).toBe(plans.length);
  });
});

describe('paged attention on every kernel variant the host runs', () => {
  // Shapes chosen to reach each branch of the variants: head sizes 16 (AVX-512's 16-dim tail), 32, 64
  // (its 64-dim passes), 8 and 12 (fallbacks); groups of 1 to 7 heads (AVX-512 runs up to four per
  // key load, then three, two or one); query counts past the block threshold of 32 (blocks of eight,
  // four, then single queries); key counts that are not multiples of 4, 16 or 32.
  const cases: [string, Shape, SeqPlan[]][] = [
    ['decode, 7 heads per kv head, head size 64', { pageTokens: 16, numHeads: 14, numKvHeads: 2, headDim: 64 }, [
      { len: 37, queries: 1 }, { len: 300, queries: 1 }, { len: 5, queries: 1 },
    ]],
    ['decode, groups of 1, 2, 3 and 5 heads', { pageTokens: 4, numHeads: 5, numKvHeads: 1, headDim: 32 }, [{ len: 23, queries: 2 }, { len: 2, queries: 1 }]],
    ['decode, 3 heads per kv head, head size 16', { pageTokens: 4, numHeads: 6, numKvHeads: 2, headDim: 16 }, [{ len: 19, queries: 1 }, { len: 31, queries: 3 }]],
    ['decode, 2 heads per kv head, head size 48', { pageTokens: 4, numHeads: 4, numKvHeads: 2, headDim: 48 }, [{ len: 11, queries: 1 }]],
    ['prefill blocks with a sliding window, head size 16', { pageTokens: 4, numHeads: 4, numKvHeads: 4, headDim: 16, slidingWindow: 7 }, [{ len: 45, queries: 45 }, { len: 9, queries: 3 }]],
    ['prefill blocks past a 256-key chunk, 7 heads, head size 64', { pageTokens: 16, numHeads: 14, numKvHeads: 2, headDim: 64 }, [{ len: 290, queries: 13 }]],
    ['prefill blocks, head size 48 (16-dim tail)', { pageTokens: 4, numHeads: 2, numKvHeads: 1, headDim: 48 }, [{ len: 70, queries: 37 }]],
    ['forks sharing a prefix: shared blocks of 8, 4 and 1 queries', { pageTokens: 4, numHeads: 13, numKvHeads: 1, headDim: 32 }, [
      { len: 101, queries: 1 }, { len: 103, queries: 1, forkOf: 0, shared: 25 }, { len: 99, queries: 1, forkOf: 0, shared: 24 },
    ]],
    ['head size 8', { pageTokens: 3, numHeads: 4, numKvHeads: 2, headDim: 8 }, [{ len: 40, queries: 20 }, { len: 6, queries: 1 }]],
    ['head size 12', { pageTokens: 5, numHeads: 4, numKvHeads: 2, headDim: 12 }, [{ len: 50, queries: 17 }]],
  ];
  for (const isa of variants) {
    for (const [what, shape, plans] of cases) {
      it(`${isa}: matches naive attention over f32 pages and over bf16 pages: ${what}`, () => {
        const args = { ...buildArgs(shape, plans, 53), isa };
        expectNaive(args);
        const rounded = { ...args, kPages: roundBf16(args.kPages), vPages: roundBf16(args.vPages) };
        const bf16 = kernels.attention({ ...args, kvDtype: 'bf16' });
        if (isa !== 'avx512bf16') {
          // Widening bf16 on load is exact: the same values as f32 pages holding the rounded ones.
          expect(bf16).toEqual(kernels.attention(rounded));
          expect(maxAbsDiff(bf16, naiveAttention(rounded))).toBeLessThanOrEqual(1e-5);
        } else {
          // Block items score with vdpbf16ps, the queries rounded to bf16: within bf16's precision.
          expect(maxAbsDiff(bf16, naiveAttention(rounded))).toBeLessThanOrEqual(1e-2);
        }
      });
    }
  }

  if (cpu.avx512bf16) {
    it('avx512bf16: block items over bf16 pages score in bf16, and no worse than the KV rounding itself', () => {
      // 16 forks of one 300-token prefix, 7 heads per kv head, head size 64: shared blocks of 112 queries.
      const shape: Shape = { pageTokens: 16, numHeads: 14, numKvHeads: 2, headDim: 64 };
      const plans: SeqPlan[] = [{ len: 300, queries: 1 }];
      for (let i = 0; i < 15; i++) plans.push({ len: 300 + i, queries: 1, forkOf: 0, shared: 18 });
      const args = { ...buildArgs(shape, plans, 61), isa: 'avx512bf16' as const };
      const rounded = { ...args, kPages: roundBf16(args.kPages), vPages: roundBf16(args.vPages) };
      const exact = naiveAttention(args);
      const bf16 = kernels.attention({ ...args, kvDtype: 'bf16' });
      const roundedErr = maxAbsDiff(naiveAttention(rounded), exact);
      // Not the f32 result over the rounded pages (the queries were rounded too)...
      expect(maxAbsDiff(bf16, naiveAttention(rounded))).toBeGreaterThan(1e-6);
      // ...but the extra error stays of the order of the pages' own rounding.
      expect(maxAbsDiff(bf16, exact)).toBeLessThanOrEqual(2 * roundedErr + 1e-3);
      // f32 pages stay exact in f32 on this variant.
      expectNaive(args);
    });
  }

  it('refuses an unknown isa', () => {
    const args = buildArgs(gqa, [{ len: 3, queries: 1 }], 5);
    expect(() => kernels.attention({ ...args, isa: 'sse' as IsaName })).toThrow("Expected `args.isa` to be one of");
  });
});
