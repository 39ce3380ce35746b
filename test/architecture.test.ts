// The import graph of lib/: no module reaches itself through its imports (type imports included), no
// folder reaches itself through its files' imports, and the search layer touches no file system.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LIB = resolve(dirname(fileURLToPath(import.meta.url)), '../lib');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Every module specifier of a file's static imports and re-exports (`import type` and `export … from` too). */
export function specifiers(source: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\n;])\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/g;
  for (const m of source.matchAll(re)) out.push(m[1]!);
  return out;
}

/** lib-relative path → lib-relative paths it imports (relative specifiers only, `.js` mapped to `.ts`). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles(LIB)) {
    const deps = specifiers(readFileSync(file, 'utf8'))
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(LIB, resolve(dirname(file), s.replace(/\.js$/, '.ts'))));
    graph.set(relative(LIB, file), deps);
  }
  return graph;
}

/** One cycle of the graph (as a path that ends where it starts), or null. */
export function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const dep of graph.get(node) ?? []) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

describe('the import graph of lib/', () => {
  const graph = importGraph();

  it('reads type imports, re-exports and multi-line import lists', () => {
    const src = [
      "import type { A } from './a.js';",
      'import {',
      '  B,',
      "  type C,",
      "} from '../b.js';",
      "export * from './c.js';",
      "export { d } from './d.js';",
      "import './side-effect.js';",
      "const x = 'import y from \"./not-an-import.js\"';",
    ].join('\n');
    expect(specifiers(src)).toEqual(['./a.js', '../b.js', './c.js', './d.js', './side-effect.js']);
  });

  it('finds a loop when there is one (the check can fail)', () => {
    const looped = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
    ]);
    expect(findCycle(looped)).toEqual(['a.ts', 'b.ts', 'c.ts', 'a.ts']);
    expect(findCycle(new Map([['a.ts', ['b.ts']], ['b.ts', []]]))).toBeNull();
  });

  it('resolves every relative import to a file of lib/', () => {
    const missing = [...graph].flatMap(([from, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${from} → ${d}`));
    expect(missing).toEqual([]);
  });

  it('has no import loop', () => {
    expect(findCycle(graph)).toBeNull();
  });

  it('has no loop between its folders either (the root files, errors.ts and the barrels, aside)', () => {
    const folderOf = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : null);
    const folders = new Map<string, string[]>();
    for (const [from, deps] of graph) {
      const a = folderOf(from);
      if (a === null) continue;
      const out = folders.get(a) ?? [];
      for (const dep of deps) {
        const b = folderOf(dep);
        if (b !== null && b !== a && !out.includes(b)) out.push(b);
      }
      folders.set(a, out);
    }
    expect(findCycle(folders)).toBeNull();
  });

  it('lib/search does no I/O: it imports no node:fs', () => {
    const offenders = tsFiles(join(LIB, 'search')).filter((f) =>
      specifiers(readFileSync(f, 'utf8')).some((s) => /^(node:)?fs(\/|$)/.test(s)),
    );
    expect(offenders.map((f) => relative(LIB, f))).toEqual([]);
  });
});
