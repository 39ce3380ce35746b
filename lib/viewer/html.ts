/**
 * One self-contained HTML page for a search: the search-tree JSON embedded as data, d3-hierarchy
 * (for the layout) and our drawing script inlined. It loads nothing from anywhere, so it opens from disk.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { VIEWER_SCRIPT } from './client.js';
import type { SearchTreeJson } from './serialize.js';
import { VIEWER_CSS } from './styles.js';

let d3Source: string | undefined;

/**
 * d3-hierarchy's minified UMD build (defines the global `d3`), read once from the installed package. Its
 * `exports` map names no file path, so the build is found next to the module entry point.
 */
function d3Hierarchy(): string {
  const entry = createRequire(import.meta.url).resolve('d3-hierarchy');
  d3Source ??= readFileSync(path.join(path.dirname(entry), 'd3-hierarchy.min.js'), 'utf8');
  return d3Source;
}

/** JSON that can sit in a `<script>` element: no `<` (so no `</script>`), no line separators. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Script text that cannot end its `<script>` element early. */
function inlineScript(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** The viewer page for one search. */
export function searchHtml(json: SearchTreeJson): string {
  const title = `thinktree search: ${json.question.replace(/\s+/g, ' ').slice(0, 80)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${VIEWER_CSS}</style>
</head>
<body>
<div id="app">
  <div id="stage">
    <div id="toolbar">
      <button id="fit" type="button">Fit</button>
      <button id="expand-all" type="button">Expand all</button>
      <button id="collapse-pruned" type="button">Collapse pruned</button>
      <button id="show-chosen" type="button">Chosen step</button>
      <span id="drawn" class="count"></span>
    </div>
    <svg id="tree" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="search tree"></svg>
  </div>
  <aside id="panel"></aside>
</div>
<script id="search-data" type="application/json">${scriptSafeJson(json)}</script>
<script>${inlineScript(d3Hierarchy())}</script>
<script>${inlineScript(VIEWER_SCRIPT)}</script>
</body>
</html>
`;
}
