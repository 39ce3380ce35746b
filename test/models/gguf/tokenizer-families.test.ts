// The three byte-level BPE families GGUF names (tokenizer.ggml.pre gpt-2, qwen2, llama-bpe): a
// tokenizer.json of each, written to GGUF by our exporter and rebuilt by our reader, tokenizes every
// text as the tokenizer.json does; llama.cpp (its own implementation of each family's split) agrees.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportGguf } from '../../../lib/models/gguf/export.js';
import { readGgufHeader } from '../../../lib/models/gguf/reader.js';
import { ggufTokenizer } from '../../../lib/models/gguf/tokenizer.js';
import { TextTokenizer } from '../../../lib/models/tokenizer.js';
import { loadLlamaCpp } from '../../helpers/llama-cpp.js';
import { TINY_DIR } from '../../helpers/reference-fixtures.js';

const runtime = await loadLlamaCpp();
const tmp = await mkdtemp(path.join(os.tmpdir(), 'gguf-tok-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

const QWEN2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const splitThenBytes = (regex: string) => ({
  type: 'Sequence',
  pretokenizers: [
    { type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
  ],
});

type Json = Record<string, unknown>;
const FAMILIES: ReadonlyArray<[string, (t: Json) => void]> = [
  ['gpt-2', () => {}],
  ['qwen2', (t) => Object.assign(t, { normalizer: { type: 'NFC' }, pre_tokenizer: splitThenBytes(QWEN2) })],
  [
    'llama-bpe',
    (t) => {
      t.pre_tokenizer = splitThenBytes(LLAMA3);
      (t.model as Json).ignore_merges = true;
      t.post_processor = {
        type: 'Sequence',
        processors: [
          { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
          {
            type: 'TemplateProcessing',
            single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
            pair: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
            special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [317], tokens: ['<|endoftext|>'] } },
          },
        ],
      };
    },
  ],
];

const TEXTS = [
  'Hello world',
  "it's 12345 o'clock, they'll SEE",
  '  two  spaces\n\n\nnewlines\r\n',
  'ünïcode ✓ 🌍 e\u0301',
  '<|im_start|>user\nhi<|im_end|>',
];

describe.each(FAMILIES)('a %s tokenizer written to GGUF and read back', (pre, edit) => {
  it('tokenizes as its tokenizer.json (and as llama.cpp where it loads)', async () => {
    const dir = path.join(tmp, pre);
    await cp(path.join(TINY_DIR, 'qwen2-bf16'), dir, { recursive: true });
    const tj = JSON.parse(await readFile(path.join(dir, 'tokenizer.json'), 'utf8')) as Json;
    edit(tj);
    await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(tj));
    const file = path.join(tmp, `${pre}.gguf`);
    await exportGguf(dir, file, { type: 'bf16' });
    const g = await readGgufHeader(file);
    expect(g.metadata.get('tokenizer.ggml.pre')).toEqual({ type: 'string', value: pre });
    const want = await TextTokenizer.fromDirectory(dir);
    const got = ggufTokenizer(g, [], 336);
    for (const text of TEXTS) expect(Array.from(got.encode(text)), text).toEqual(Array.from(want.encode(text)));
    if (typeof runtime === 'string') return;
    const model = await runtime.llama.loadModel({ modelPath: file, gpuLayers: 0 });
    try {
      for (const text of TEXTS) {
        // llama.cpp does not apply Qwen2's NFC normalizer (tokenizer.json does, and so do we).
        if (pre === 'qwen2' && text.normalize('NFC') !== text) continue;
        const ids = Array.from(want.encode(text, { addSpecialTokens: false }));
        expect(model.tokenize(text, true).map(Number), `llama.cpp: ${JSON.stringify(text)}`).toEqual(ids);
      }
    } finally {
      await model.dispose();
    }
  });
});

it('refuses to write a tokenizer whose normalizer its family cannot carry', async () => {
  const dir = path.join(tmp, 'nfkc');
  await cp(path.join(TINY_DIR, 'qwen2-bf16'), dir, { recursive: true });
  const tj = JSON.parse(await readFile(path.join(dir, 'tokenizer.json'), 'utf8')) as Json;
  tj.normalizer = { type: 'NFKC' };
  await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(tj));
  await expect(exportGguf(dir, path.join(tmp, 'nfkc.gguf'))).rejects.toThrow(/normalizer \{"type":"NFKC"\} is not the gpt-2 family's/);
});
