// Whole-model execution on a CUDA device against the CPU backend, on the tiny test models: logits,
// greedy decoding, fork / copy-on-write and the page audit, PRM scores, a beam search, the memory
// check. Shared by the emulator suite (model.emu.test.ts: the same .cu sources run on the CPU) and
// the GPU suite (model.gpu.test.ts). Each model is loaded once per backend (cuda at precision 'f32',
// so K/V stay f32 and logits agree with the CPU to the conformance tolerances).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../lib/engine/engine.js';
import { exportGguf } from '../../lib/models/gguf/export.js';
import { loadModel, type Model } from '../../lib/models/model.js';
import { loadPrm } from '../../lib/models/prm/prm.js';
import type { PrmFormatName } from '../../lib/models/prm/format.js';
import { TINY_DIR, TINY_MODELS, maxAbsDiff, readReference } from '../helpers/reference-fixtures.js';
import { fixtureDir, type PrmFixture } from '../models/prm-fixtures.js';

// The conformance suite's tolerances against the PyTorch reference (test/models/conformance.test.ts);
// two f32 backends differ from each other by no more than each differs from the reference.
const TOLERANCE: Record<(typeof TINY_MODELS)[number], number> = {
  'llama-f32': 1e-4,
  'llama-bf16-sharded': 1e-3,
  'qwen2-bf16': 1e-3,
  'mistral-f16': 1e-3,
};

const OPTIONS = { precision: 'f32' as const, threads: 2, kvCacheBytes: 4 << 20, pageTokens: 4 };

async function pair(dir: string, options = OPTIONS): Promise<{ cpu: Model; gpu: Model }> {
  const cpu = await loadModel(dir, { ...options, device: 'cpu' });
  const gpu = await loadModel(dir, { ...options, device: 'cuda' });
  return { cpu, gpu };
}

/** Logits after the last of `tokens`, computed from scratch on a temporary sequence. */
async function freshLastLogits(model: Model, tokens: Int32Array): Promise<Float32Array> {
  const all = await model.logits(tokens);
  return all.slice(all.length - all.length / tokens.length);
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let t = 1; t < row.length; t++) if (row[t]! > row[best]!) best = t;
  return best;
}

export function deviceModelSuite(title: string): void {
  describe(title, () => {
    describe.each(TINY_MODELS)('%s', (name) => {
      const dir = path.join(TINY_DIR, name);
      const ref = readReference(dir);
      const prompt = ref.prompts.reduce((a, b) => (b.tokens.length < a.tokens.length ? b : a));
      let cpu: Model, gpu: Model;
      beforeAll(async () => ({ cpu, gpu } = await pair(dir)));
      afterAll(() => {
        cpu?.dispose();
        gpu?.dispose();
      });

      it('runs on the device and says so', () => {
        expect(gpu.info.device).toBe('cuda');
        expect(gpu.info.deviceReason).toMatch(/^device 'cuda' was requested: running on /);
        expect(cpu.info.device).toBe('cpu');
      });

      it('gives the CPU logits at every prompt position', async () => {
        const want = await cpu.logits(prompt.tokens);
        const got = await gpu.logits(prompt.tokens);
        expect(got.length).toBe(want.length);
        expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(TOLERANCE[name]);
        expect(maxAbsDiff(got, prompt.logits.data)).toBeLessThanOrEqual(TOLERANCE[name]);
      });

      it('decodes greedily to the CPU continuation (and the reference one)', async () => {
        const steps = 6;
        const run = async (m: Model) => Array.from((await m.generate(prompt.tokens, { maxTokens: steps, temperature: 0 })).tokens);
        const got = await run(gpu);
        expect(got).toEqual(await run(cpu));
        expect(got).toEqual(prompt.greedy.tokens.slice(0, got.length));
      });

      it('samples on the device from the CPU sampler\'s streams: same tokens and log-probabilities for a seed', async () => {
        const options = { maxTokens: 6, temperature: 0.9, topK: 50, topP: 0.95, seed: 5 };
        const want = await cpu.generate(prompt.tokens, options);
        const got = await gpu.generate(prompt.tokens, options);
        expect(Array.from(got.tokens)).toEqual(Array.from(want.tokens));
        expect(maxAbsDiff(got.logprobs, want.logprobs)).toBeLessThanOrEqual(1e-4);
      });

      it('returns every KV page to the pool', () => {
        const kv = gpu.kvStats();
        expect(kv.pagesFree).toBe(kv.pagesTotal);
      });
    });

    it('runs a llama GGUF file (permuted Q/K rows, interleaved RoPE) to the safetensors model\'s logits', async () => {
      const dir = path.join(TINY_DIR, 'llama-bf16-sharded');
      const tmp = await mkdtemp(path.join(os.tmpdir(), 'gguf-device-'));
      try {
        const file = path.join(tmp, 'llama.gguf');
        await exportGguf(dir, file, { type: 'bf16' });
        const gguf = await loadModel(file, { ...OPTIONS, device: 'cuda' });
        const st = await loadModel(dir, { ...OPTIONS, device: 'cuda' });
        try {
          const prompt = readReference(dir).prompts[0]!;
          expect(maxAbsDiff(await gguf.logits(prompt.tokens), await st.logits(prompt.tokens))).toBe(0);
        } finally {
          gguf.dispose();
          st.dispose();
        }
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });

    it('runs at bf16 (the GPU default: bf16 KV, tensor-core GEMMs) with greedy agreement where the reference margin exceeds 0.5', async () => {
      const dir = path.join(TINY_DIR, 'qwen2-bf16');
      const prompt = readReference(dir).prompts[0]!;
      const model = await loadModel(dir, { ...OPTIONS, precision: undefined, device: 'cuda' });
      try {
        expect(model.info.precision).toBe('bf16');
        // bf16 pages: layers × (K, V) × pageTokens × kvHeads × headDim × 2 bytes
        const c = model.config;
        expect(model.info.bytesPerPage).toBe(c.numLayers * 2 * OPTIONS.pageTokens * c.numKvHeads * c.headDim * 2);
        const seq = await model.createSequence();
        await model.appendTokens(seq, prompt.tokens);
        for (let s = 0; s < 6; s++) {
          const [step] = await model.generateStep([seq], { maxTokens: 1, temperature: 0, stopAtEos: false });
          const ours = step!.tokens[0];
          if (prompt.greedy.margins[s]! > 0.5) expect(ours, `step ${s}`).toBe(prompt.greedy.tokens[s]);
          if (ours !== prompt.greedy.tokens[s]) break; // off the reference path: later steps are not comparable
        }
        await model.release(seq);
        expect(model.kvStats().pagesFree).toBe(model.kvStats().pagesTotal);
      } finally {
        model.dispose();
      }
    });

    describe('fork and copy-on-write', () => {
      const dir = path.join(TINY_DIR, 'qwen2-bf16');
      let cpu: Model, gpu: Model;
      beforeAll(async () => ({ cpu, gpu } = await pair(dir)));
      afterAll(() => {
        cpu?.dispose();
        gpu?.dispose();
      });

      it('gives forked children the logits of fresh sequences, and every page back', async () => {
        // 10 prompt tokens on pages of 4: the third page is partly filled and shared by all forks,
        // so each child's first write copies it on the device.
        const prompt = [3, 14, 15, 92, 65, 35, 89, 79, 32, 38];
        const parent = await gpu.createSequence({ seed: 1 });
        await gpu.appendTokens(parent, prompt);
        await gpu.generateStep([parent], { maxTokens: 1, temperature: 0 }); // prefill; one token pending
        const children = await gpu.forkMany([parent, parent]);
        await gpu.appendTokens(children[0]!, [7, 8, 9]);
        await gpu.appendTokens(children[1]!, [100]);
        await gpu.appendTokens(parent, [42, 43]);
        const seqs = [parent, ...children];
        const steps = await gpu.generateStep(seqs, { maxTokens: 3, temperature: 0, stopAtEos: false });
        const forked = await gpu.generateStep(seqs, { maxTokens: 1, temperature: 0, stopAtEos: false });
        for (let i = 0; i < seqs.length; i++) {
          const tokens = await gpu.sequenceTokens(seqs[i]!);
          // The decode through shared and copied pages gives the tokens a fresh CPU sequence gives.
          const before = tokens.slice(0, tokens.length - steps[i]!.tokens.length - 1);
          const cpuSeq = await cpu.createSequence();
          await cpu.appendTokens(cpuSeq, before);
          const [cpuStep] = await cpu.generateStep([cpuSeq], { maxTokens: 4, temperature: 0, stopAtEos: false });
          await cpu.release(cpuSeq);
          expect([...steps[i]!.tokens, ...forked[i]!.tokens], `sequence ${i}`).toEqual(Array.from(cpuStep!.tokens));
          // And its last step read the logits a fresh sequence of the same tokens computes.
          const fresh = await freshLastLogits(gpu, tokens.slice(0, tokens.length - 1));
          expect(maxAbsDiff(fresh, await freshLastLogits(cpu, tokens.slice(0, tokens.length - 1))), `sequence ${i}`).toBeLessThanOrEqual(1e-3);
          expect(forked[i]!.tokens[0], `sequence ${i}`).toBe(argmax(fresh));
        }
        expect(gpu.kvStats().pagesInUse).toBeGreaterThan(0);
        await gpu.releaseMany(seqs);
        const kv = gpu.kvStats();
        expect(kv.pagesFree).toBe(kv.pagesTotal);
      });
    });

    describe('PRM scores', () => {
      const LOADS: Array<[PrmFixture, PrmFormatName]> = [
        ['qwen2-prm', 'qwen2.5-math-prm'],
        ['math-shepherd', 'math-shepherd'],
        ['value-head', 'value-head'],
      ];
      const steps = ['Step 1: Tom has 3 apples.\n\n', 'Step 2: he buys 5 more, 3 + 5 = 8.\n\n', 'The answer is 8.'];
      it.each(LOADS)('%s (%s) scores steps as the CPU PRM does', async (fixture, format) => {
        const options = { format, precision: 'f32' as const, threads: 2, kvCacheBytes: 4 << 20, pageTokens: 8 };
        const cpu = await loadPrm(fixtureDir(fixture), { ...options, device: 'cpu' });
        const gpu = await loadPrm(fixtureDir(fixture), { ...options, device: 'cuda' });
        try {
          expect(gpu.info.device).toBe('cuda');
          const question = 'Tom has 3 apples and buys 5 more. How many?';
          const want = await cpu.scoreSteps(question, steps);
          const got = await gpu.scoreSteps(question, steps);
          expect(got.length).toBe(steps.length);
          expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1e-5);
          // incremental tree scoring: a root, then one step per child, through forked PRM sequences
          const root = await gpu.root(question);
          const scored = await gpu.score([root], [steps[0]!]);
          expect(Math.abs(scored.rewards[0]! - want[0]!)).toBeLessThanOrEqual(1e-5);
        } finally {
          cpu.dispose();
          gpu.dispose();
        }
      });
    });

    describe('beam search', () => {
      const policy = path.join(TINY_DIR, 'llama-f32');
      const prm = fixtureDir('qwen2-prm');
      it('grows the same tree on the device as on the CPU for a fixed seed', async () => {
        const load = (device: 'cpu' | 'cuda') =>
          Engine.load(policy, prm, {
            policy: { ...OPTIONS, kvCacheBytes: 8 << 20, device },
            prm: { ...OPTIONS, kvCacheBytes: 8 << 20, device },
          });
        const search = { strategy: 'beam' as const, n: 4, beamWidth: 2, maxIterations: 2, maxStepTokens: 5, temperature: 0.8, seed: 7 };
        const trees = [];
        for (const device of ['cpu', 'cuda'] as const) {
          const engine = await load(device);
          try {
            const result = await engine.search('What is 2 + 3?', search);
            trees.push(result.tree.map((t) => [t.parent, t.stepText, t.prmScore === null ? null : Number(t.prmScore.toFixed(4))]));
            const kv = engine.kvStats();
            expect(kv.policy.pagesFree).toBe(kv.policy.pagesTotal);
            expect(kv.prm?.pagesFree).toBe(kv.prm?.pagesTotal);
          } finally {
            engine.dispose();
          }
        }
        expect(trees[1]!.length).toBeGreaterThan(1);
        expect(trees[1]).toEqual(trees[0]);
      });
    });
  });
}
