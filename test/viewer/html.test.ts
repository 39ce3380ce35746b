// The viewer page without a browser: one file with everything inlined, the search's JSON embedded so
// that no step text can end its <script> element, and the public entry points exported.
import { describe, expect, it } from 'vitest';
import * as thinktree from '../../lib/index.js';
import { scriptSafeJson, searchHtml } from '../../lib/viewer/html.js';
import { serializeSearch } from '../../lib/viewer/serialize.js';
import { beamLikeResult } from './synthetic.js';

const EVIL = '</script><script>alert(1)</script>\u2028<!-- -->';

function page() {
  const result = beamLikeResult(4, 2, 2);
  result.tree[1]!.stepText = EVIL;
  const json = serializeSearch(result, { question: `Q ${EVIL}`, searchOptions: { strategy: 'beam', n: 4, beamWidth: 2, aggregation: 'min' } });
  return { json, html: searchHtml(json) };
}

describe('scriptSafeJson', () => {
  it('leaves no < and no line separator, and parses back to the same value', () => {
    const text = scriptSafeJson({ a: EVIL });
    expect(text).not.toMatch(/[<\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual({ a: EVIL });
  });
});

describe('searchHtml', () => {
  it('embeds the JSON so that it parses back whole', () => {
    const { json, html } = page();
    const m = /<script id="search-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html)!;
    expect(JSON.parse(m[1]!)).toEqual(json);
  });

  it('has exactly three script elements: the data, d3-hierarchy and the viewer', () => {
    const { html } = page();
    expect(html.match(/<script\b/g)).toHaveLength(3);
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(html).toContain('https://d3js.org/d3-hierarchy/ v3');
  });

  it('loads nothing: no src or href attribute, and a policy that forbids fetching', () => {
    const { html } = page();
    expect(html).not.toMatch(/\s(src|href)=/i);
    expect(html).toContain(`content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it('escapes the question in the title', () => {
    expect(page().html).toContain('<title>thinktree search: Q &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

describe('the package entry point', () => {
  it('exports serializeSearch, searchHtml and the schema path', () => {
    expect(typeof thinktree.serializeSearch).toBe('function');
    expect(typeof thinktree.searchHtml).toBe('function');
    expect(thinktree.SEARCH_TREE_SCHEMA).toMatch(/schema[/\\]search-tree\.v1\.schema\.json$/);
    expect(thinktree.SEARCH_TREE_VERSION).toBe(1);
  });
});
