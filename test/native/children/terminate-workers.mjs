// Child process of worker-terminate.test.ts: worker_threads that load a model, generate and score
// (forward) are terminated at varying points of that work, repeatedly; then this main thread loads and
// generates itself. Prints one JSON line. The parent asserts the process exited normally: before the
// fix, a completion running during the worker's teardown threw out of node-addon-api and aborted the
// whole process. (terminate() still waits for the native call in flight to finish: Node drains a
// terminated worker's pending work before any cleanup hook can raise its cancel flag.)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deserialize } from 'node:v8';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);

function request(seq, maxTokens) {
  return {
    seqs: Int32Array.of(seq),
    temperature: new Float32Array(1),
    topK: new Int32Array(1),
    topP: new Float32Array(1).fill(1),
    minP: new Float32Array(1),
    maxTokens: Int32Array.of(maxTokens),
    stop: [],
    stopAtEos: false,
  };
}

async function work(addon, spec, report) {
  const model = await addon.loadModel(spec, () => {});
  report('loaded');
  const gen = model.createSequence(0);
  model.appendTokens(gen, Int32Array.of(1, 2, 3));
  const score = model.createSequence(0);
  model.appendTokens(score, Int32Array.from({ length: 200 }, (_, i) => i % 250));
  // Both in flight at once: a long generation and a forward queued behind it.
  const g = model.generateStep(request(gen, 1500));
  const f = model.forward(Int32Array.of(score), 'all');
  report('running');
  await Promise.all([g, f]);
  report('done');
  return model;
}

if (!isMainThread) {
  const addon = require('node-gyp-build')(process.env.THINKTREE_ADDON_DIR || workerData.root);
  await work(addon, workerData.spec, (m) => parentPort.postMessage(m));
} else {
  const [specFile, root, roundsArg] = process.argv.slice(2);
  const spec = deserialize(readFileSync(specFile));
  const rounds = Number(roundsArg);
  const seen = { loaded: 0, running: 0, done: 0 };
  for (let i = 0; i < rounds; i++) {
    const w = new Worker(new URL(import.meta.url), { workerData: { spec, root } });
    // Terminate at a point that moves through the work: during the load, just after it, mid-generation.
    const at = ['start', 'loaded', 'running'][i % 3];
    const delay = (i * 7) % 23;
    await new Promise((resolve, reject) => {
      w.on('error', reject);
      if (at === 'start') setTimeout(resolve, delay);
      w.on('message', (m) => {
        seen[m]++;
        if (m === at) setTimeout(resolve, delay);
      });
    });
    const t0 = Date.now();
    await w.terminate();
    if (process.env.TT_DEBUG) console.error(at, Date.now() - t0);
  }
  // The main thread still works.
  const addon = require('node-gyp-build')(process.env.THINKTREE_ADDON_DIR || root);
  const model = await work(addon, { ...spec }, () => {});
  model.dispose();
  console.log(JSON.stringify({ rounds, seen, main: 'ok' }));
}
