// Guards the committed tiny PRM fixtures (test/fixtures/tiny-prm/*): the files follow the published
// layouts, the binary layout is self-consistent, the JS tokenizer reproduces the reference tokens, and
// the reference rewards are probabilities spread enough to catch a wrong head. No native code.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../lib/models/tokenizer.js';
import { PRM_FIXTURES, fixtureDir, readReference, type PrmFixture } from './prm-fixtures.js';

interface Header {
  [name: string]: { dtype: string; shape: number[]; data_offsets: [number, number] };
}

function readHeader(file: string): { tensors: Header; dataLength: number; metadata: unknown } {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const { __metadata__: metadata, ...tensors } = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Header & { __metadata__?: unknown };
  return { tensors: tensors as Header, dataLength: buf.length - 8 - n, metadata };
}

const readJson = (name: PrmFixture, file: string) => JSON.parse(readFileSync(path.join(fixtureDir(name), file), 'utf8'));

/** Head tensors each fixture must hold besides the decoder, and whether it keeps lm_head. */
const HEADS: Record<string, { tensors: Record<string, (h: number) => number[]>; lmHead: boolean }> = {
  'qwen2-prm': {
    tensors: { 'score.0.weight': (h) => [h, h], 'score.0.bias': (h) => [h], 'score.2.weight': (h) => [2, h], 'score.2.bias': () => [2] },
    lmHead: false,
  },
  'math-shepherd': { tensors: {}, lmHead: true },
  'value-head': { tensors: { 'v_head.summary.weight': (h) => [1, h], 'v_head.summary.bias': () => [1] }, lmHead: true },
};

describe.each(PRM_FIXTURES)('PRM fixture %s', (name) => {
  const config = readJson(name, 'config.json');
  const ref = readReference(name);
  const st = readHeader(path.join(fixtureDir(name), 'model.safetensors'));

  it('has the tensors of its published layout: decoder, head, and lm_head only where the layout has one', () => {
    const h = config.hidden_size;
    const names = Object.keys(st.tensors);
    const head = HEADS[name];
    for (const [t, shape] of Object.entries(head.tensors)) expect(st.tensors[t]?.shape).toEqual(shape(h));
    expect(names.includes('lm_head.weight')).toBe(head.lmHead);
    const outside = names.filter((n) => !n.startsWith('model.') && n !== 'lm_head.weight');
    expect(outside.sort()).toEqual(Object.keys(head.tensors).sort());
  });

  it('stores F32 tensors with contiguous offsets covering the data section', () => {
    expect(st.metadata).toEqual({ format: 'pt' });
    const spans = Object.values(st.tensors).map((t) => {
      expect(t.dtype).toBe('F32');
      expect(t.data_offsets[1] - t.data_offsets[0]).toBe(4 * t.shape.reduce((a, b) => a * b, 1));
      return t.data_offsets;
    });
    spans.sort((a, b) => a[0] - b[0]);
    let cursor = 0;
    for (const [begin, end] of spans) {
      expect(begin).toBe(cursor);
      cursor = end;
    }
    expect(cursor).toBe(st.dataLength);
  });

  it('the JS tokenizer encodes every reference text to the reference tokens', async () => {
    const tok = await TextTokenizer.fromDirectory(fixtureDir(name));
    expect(tok.vocabSize).toBe(ref.tokenizerSize);
    for (const c of ref.cases) expect(Array.from(tok.encode(c.text, { addSpecialTokens: false }))).toEqual(c.tokens);
  });

  it('reference positions and ids lie inside their sequences and the vocabulary', () => {
    for (const c of [...ref.cases, ...ref.ids.map((x) => ({ tokens: x.ids, positions: x.positions, rewards: x.rewards }))]) {
      expect(c.positions.length).toBe(c.rewards.length);
      for (const p of c.positions) expect(p >= 0 && p < c.tokens.length).toBe(true);
      for (const t of c.tokens) expect(t >= 0 && t < config.vocab_size).toBe(true);
    }
  });

  it('reference rewards are probabilities spread over (0, 1), not saturated', () => {
    const rewards = [...ref.cases, ...ref.ids].flatMap((c) => c.rewards);
    for (const r of rewards) expect(r > 0 && r < 1).toBe(true);
    expect(Math.max(...rewards) - Math.min(...rewards)).toBeGreaterThan(0.3);
    expect(ref.float64MaxAbsDiff).toBeLessThan(1e-5);
  });
});

it('the Qwen PRM fixture declares Qwen2ForProcessRewardModel on the qwen2 model type with <extra_0> as a special token', () => {
  const config = readJson('qwen2-prm', 'config.json');
  expect(config.architectures).toEqual(['Qwen2ForProcessRewardModel']);
  expect(config.model_type).toBe('qwen2');
  const added = readJson('qwen2-prm', 'tokenizer.json').added_tokens as Array<{ content: string; special: boolean }>;
  expect(added.find((t) => t.content === '<extra_0>')?.special).toBe(true);
});

it('the Math-Shepherd fixture has the step tag as an ordinary vocabulary token, with and without a leading space', () => {
  const vocab = readJson('math-shepherd', 'tokenizer.json').model.vocab as Record<string, number>;
  // Byte-level spellings: "ки" is UTF-8 d0 ba d0 b8, a space is "Ġ".
  expect(vocab['ÐºÐ¸']).toBeTypeOf('number');
  expect(vocab['ĠÐºÐ¸']).toBeTypeOf('number');
});
