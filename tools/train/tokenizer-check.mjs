#!/usr/bin/env node
// Encodes texts with @huggingface/tokenizers (the tokenizer the package uses) from a model directory's
// tokenizer.json + tokenizer_config.json and compares with ids computed in Python.
//   node tools/train/tokenizer-check.mjs <model dir> <cases.json: [{"text", "ids"}]>
// Prints "N/N match"; exits 1 on any mismatch.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

const [dir, casesFile] = process.argv.slice(2);
const read = (f) => JSON.parse(readFileSync(f, 'utf8'));
const tok = new Tokenizer(read(join(dir, 'tokenizer.json')), read(join(dir, 'tokenizer_config.json')));
const cases = read(casesFile);
let bad = 0;
for (const c of cases) {
  const ids = Array.from(tok.encode(c.text).ids);
  if (JSON.stringify(ids) !== JSON.stringify(c.ids)) {
    bad++;
    if (bad <= 3) console.error(`mismatch on ${JSON.stringify(c.text.slice(0, 80))}: js ${ids.slice(0, 20)} py ${c.ids.slice(0, 20)}`);
  }
}
console.log(`${cases.length - bad}/${cases.length} match`);
process.exit(bad === 0 ? 0 : 1);
