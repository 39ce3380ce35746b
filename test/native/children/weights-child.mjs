// Child process of weights-file.test.ts: loads a model from a v8-serialized spec, changes its weights
// file as told, runs a forward and prints what happened as one JSON line. The parent asserts that this
// process exited normally: a SIGBUS from reading a truncated mapping would kill it instead.
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deserialize } from 'node:v8';

const [specFile, change, mmap, addonRoot] = process.argv.slice(2);
const addon = createRequire(import.meta.url)('node-gyp-build')(process.env.THINKTREE_ADDON_DIR || addonRoot);
const spec = { ...deserialize(readFileSync(specFile)), mmap: mmap === 'true' };
const model = await addon.loadModel(spec);
const run = async () => {
  const s = model.createSequence(0);
  model.appendTokens(s, Int32Array.of(3, 14, 15, 92, 65));
  try {
    return Array.from(await model.forward(Int32Array.of(s), 'last'));
  } finally {
    model.release(s);
  }
};
const before = await run();
const file = spec.files[0];
if (change === 'truncate') truncateSync(file, Math.floor(readFileSync(file).length / 3));
if (change === 'overwrite') {
  // Same size, every data byte changed: only the modification time tells.
  const bytes = readFileSync(file);
  const headerEnd = 8 + Number(bytes.readBigUInt64LE(0));
  for (let i = headerEnd; i < bytes.length; i++) bytes[i] ^= 0x55;
  writeFileSync(file, bytes);
}
const out = { before };
try {
  out.after = await run();
} catch (err) {
  out.error = { code: err.code, message: err.message };
}
try {
  // A refused model stays refused: the second call must not read the file either.
  out.again = await run();
} catch (err) {
  out.againError = { code: err.code };
}
model.dispose();
console.log(JSON.stringify(out));
