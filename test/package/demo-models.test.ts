// `import { demoModels } from 'thinktree'` gives absolute paths to the shipped models, wherever the
// process runs from.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoModels } from '../../lib/index.js';
import { repoRoot } from './install-harness.js';

describe('demoModels', () => {
  it('names the shipped policy, PRM, calibration table and data under the package root', () => {
    expect(demoModels).toEqual({
      policy: path.join(repoRoot, 'models', 'policy'),
      prm: path.join(repoRoot, 'models', 'prm'),
      calibration: path.join(repoRoot, 'models', 'calibration.json'),
      data: path.join(repoRoot, 'models', 'data'),
    });
  });

  it('points at files that exist', () => {
    for (const f of [
      path.join(demoModels.policy, 'model.safetensors'),
      path.join(demoModels.prm, 'model.safetensors'),
      demoModels.calibration,
      path.join(demoModels.data, 'test-level-1.jsonl.gz'),
    ]) {
      expect(existsSync(f), f).toBe(true);
    }
  });

  it('is frozen', () => {
    expect(Object.isFrozen(demoModels)).toBe(true);
  });
});
