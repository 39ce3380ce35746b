// The README's library quick start runs as written against the shipped demo models: the first ```js block
// after "## Quick start", with its `from 'thinktree'` import bound to the package's entry point.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from './install-harness.js';

const README = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

function quickStartSnippet(): string {
  const section = README.slice(README.indexOf('\n## Quick start\n'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  if (m === null) throw new Error('README: no ```js block under "## Quick start"');
  return m[1]!;
}

it('the quick start is about ten lines and imports only from thinktree', () => {
  const code = quickStartSnippet();
  expect(code.trim().split('\n').length).toBeLessThanOrEqual(12);
  expect([...code.matchAll(/from '([^']+)'/g)].map((m) => m[1])).toEqual(['thinktree']);
});

it('the quick start runs as written and prints the answer its comment promises', async () => {
  const code = quickStartSnippet();
  const lib = await import('../../lib/index.js');
  // `import { a, b } from 'thinktree';` → `const { a, b } = thinktree;`, the rest unchanged.
  const body = code.replace(/^import \{([^}]*)\} from 'thinktree';$/m, 'const {$1} = thinktree;');
  const printed: unknown[][] = [];
  const console = { log: (...args: unknown[]) => printed.push(args) };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (
    ...a: unknown[]
  ) => Promise<void>;
  await new AsyncFunction('thinktree', 'console', body)(lib, console);
  const promised = /console\.log\(result\.answer\); \/\/ (\S+)/.exec(code)?.[1];
  expect(promised).toBeDefined();
  expect(printed[0]).toEqual([promised]);
  expect(printed[1]).toHaveLength(3);
}, 120_000);
