// Reward models in GGUF files (thinktree's own extension: the reward head keeps its Hugging Face
// tensor names, and `thinktree.architecture` names a PRM class; llama.cpp does not read such files):
// each tiny PRM fixture written by our exporter scores exactly as the safetensors it came from.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportGguf } from '../../../lib/models/gguf/export.js';
import { loadModel } from '../../../lib/models/model.js';
import type { PrmFormatName } from '../../../lib/models/prm/format.js';
import { loadPrm } from '../../../lib/models/prm/prm.js';
import { fixtureDir, readReference, type PrmFixture } from '../prm-fixtures.js';

const tmp = await mkdtemp(path.join(os.tmpdir(), 'gguf-prm-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

const CASES: ReadonlyArray<[PrmFixture, PrmFormatName]> = [
  ['qwen2-prm', 'qwen2.5-math-prm'],
  ['math-shepherd', 'math-shepherd'],
  ['value-head', 'value-head'],
];

const OPTIONS = { precision: 'f32', threads: 2, kvCacheBytes: 8 << 20, pageTokens: 8, device: 'cpu' } as const;

describe.each(CASES)('the %s PRM as a GGUF file', (fixture, format) => {
  it('scores every reference input exactly as the safetensors PRM', async () => {
    const file = path.join(tmp, `${fixture}.gguf`);
    await exportGguf(fixtureDir(fixture), file, { type: 'f32' });
    const a = await loadPrm(fixtureDir(fixture), { ...OPTIONS, format });
    const b = await loadPrm(file, { ...OPTIONS, format });
    try {
      const ref = readReference(fixture);
      const cases = ref.ids.map((c) => ({ ids: c.ids, positions: [...c.positions].sort((x, y) => x - y) }));
      const want = await a.scoreAt(cases.map((c) => c.ids), cases.map((c) => c.positions));
      const got = await b.scoreAt(cases.map((c) => c.ids), cases.map((c) => c.positions));
      expect(got.rewards).toEqual(want.rewards);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});

it('refuses a reward-model GGUF given to loadModel, pointing to loadPrm', async () => {
  const file = path.join(tmp, 'qwen2-prm-policy.gguf');
  await exportGguf(fixtureDir('qwen2-prm'), file, { type: 'f32' });
  await expect(loadModel(file, OPTIONS)).rejects.toThrow(/Qwen2ForProcessRewardModel is a process reward model.*loadPrm\(\)/);
});
