// What `npm pack` ships: the runtime (dist/, prebuilds/, the demo models in models/ without the large
// policy, which only the FLOPs-matched comparison in the repository uses), what a fallback build needs
// (native sources, binding.gyp, CMakeLists.txt, the install script), the JSON Schemas of what the CLI
// writes, README and LICENSE; nothing else.
import { beforeAll, describe, expect, test } from 'vitest';
import { npm, repoRoot, withRepoLock } from './install-harness.js';

let files: string[];

beforeAll(() => {
  const r = withRepoLock(() => npm(['pack', '--dry-run', '--json', '--ignore-scripts'], repoRoot));
  if (r.status !== 0) throw new Error(`npm pack --dry-run failed\n${r.stdout}\n${r.stderr}`);
  files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
});

const allowed = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^binding\.gyp$/,
  /^CMakeLists\.txt$/,
  /^dist\/.+\.(js|d\.ts)$/,
  /^prebuilds\/[a-z0-9]+-[a-z0-9]+\/[^/]+\.(node|so)$/,
  /^models\//,
  /^schema\/[^/]+\.schema\.json$/,
  /^native\/sources\.json$/,
  /^native\/.+\.(cc|h|cu|cuh)$/,
  /^tools\/prebuild\/(install|paths|build-tools)\.mjs$/,
];

describe('npm pack contents', () => {
  test('every packed file is runtime, fallback-build source, a schema, README or LICENSE', () => {
    expect(files.filter((f) => !allowed.some((re) => re.test(f)))).toEqual([]);
  });

  test('the tarball has the entry points, the install script and what a source build reads', () => {
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'schema/search-tree.v1.schema.json', 'tools/prebuild/install.mjs', 'binding.gyp', 'native/sources.json', 'LICENSE', 'README.md']) {
      expect(files).toContain(f);
    }
  });

  test('the demo models that demoModels names are packed, models/policy-large is not', () => {
    for (const f of ['models/policy/model.safetensors', 'models/policy/tokenizer.json', 'models/prm/model.safetensors', 'models/prm/config.json', 'models/calibration.json', 'models/data/test-level-3.jsonl.gz']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('models/policy-large'))).toEqual([]);
  });

  test('every native source that native/sources.json lists is packed', async () => {
    const { default: sources } = await import('../../native/sources.json', { with: { type: 'json' } });
    const listed = Object.entries(sources as Record<string, unknown>)
      .filter(([k]) => !k.startsWith('/'))
      .flatMap(([, v]) => v as string[]);
    expect(listed.filter((f) => !files.includes(f))).toEqual([]);
  });
});
