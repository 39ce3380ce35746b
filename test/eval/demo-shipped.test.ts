// The demo's small configuration on the shipped models, when they exist (they are trained offline and
// may be absent from a checkout): it must run end to end and write its report.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoCommand } from '../../lib/cli/commands/demo.js';

const MODELS = path.resolve(import.meta.dirname, '..', '..', 'models');
const READY = existsSync(path.join(MODELS, 'policy', 'config.json')) && existsSync(path.join(MODELS, 'prm', 'config.json'));

describe.skipIf(!READY)(`thinktree demo on the shipped models${READY ? '' : ' (skipped: models/policy or models/prm is absent)'}`, () => {
  it('shows greedy vs beam search with its tree, then writes the accuracy table, the chart and the showcase trees', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'thinktree-demo-'));
    try {
      let out = '';
      const code = await demoCommand.run(['--per-level', '1', '--budget', '1,4', '--out', dir], {
        stdout: (s) => void (out += s),
        stderr: () => {},
      });
      expect(code).toBe(0);
      expect(out).toContain('greedy decoding: answer');
      expect(out).toContain('search tree (* chosen path, + kept, x pruned; PRM score):');
      expect(out).toMatch(/### All levels \(\d+ problems\)/);
      const rows = JSON.parse(await readFile(path.join(dir, 'results.json'), 'utf8')) as { strategy: string }[];
      expect(new Set(rows.map((r) => r.strategy))).toEqual(new Set(['greedy', 'majority', 'weighted-best-of-n', 'beam', 'dvts', 'compute-optimal']));
      expect(existsSync(path.join(dir, 'accuracy.svg'))).toBe(true);
      for (const level of [2, 3, 4]) {
        const page = await readFile(path.join(dir, `tree-level-${level}.html`), 'utf8');
        expect(page).toContain('<script id="search-data" type="application/json">{"format":"thinktree.search-tree","version":1,');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
