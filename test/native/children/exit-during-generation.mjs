// Child process of exit.test.ts: starts a generation of many thousand tokens and calls process.exit()
// 50 ms later. The addon tells calls in flight to stop on 'exit'; without that, exit waits for libuv's
// thread pool, that is for the whole generation.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deserialize } from 'node:v8';

const [specFile, root, tokens] = process.argv.slice(2);
const addon = createRequire(import.meta.url)('node-gyp-build')(process.env.THINKTREE_ADDON_DIR || root);
const model = await addon.loadModel(deserialize(readFileSync(specFile)));
const s = model.createSequence(0);
model.appendTokens(s, Int32Array.of(1, 2, 3));
const one = (v) => Float32Array.of(v);
model.generateStep({ seqs: Int32Array.of(s), temperature: one(0), topK: new Int32Array(1), topP: one(1), minP: one(0), maxTokens: Int32Array.of(Number(tokens)), stop: [], stopAtEos: false });
setTimeout(() => {
  console.log('exiting');
  process.exit(3);
}, 50);
