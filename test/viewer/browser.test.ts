// The HTML viewer in a real browser: headless Chromium (Debian's, driven by playwright-core) opens the
// page from disk with every non-file request blocked and recorded. It must draw every node, highlight
// the chosen path, show a clicked node's text, hide a collapsed subtree, and reach no network.
// The pages and their screenshots stay in test-artifacts/ (git-ignored) for a person to look at.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchHtml } from '../../lib/viewer/html.js';
import { serializeSearch, type SearchTreeJson } from '../../lib/viewer/serialize.js';
import { MODELS_READY, realSearch } from './real-search.js';
import { beamLikeResult } from './synthetic.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = path.resolve(import.meta.dirname, '..', '..', 'test-artifacts');
const CHOSEN_BLUE = 'rgb(37, 99, 235)';

let browser: Browser;

/** What a page asked of anything but the disk (blocked), and what it threw. */
interface Visit {
  page: Page;
  blocked: string[];
  errors: string[];
}

async function open(json: SearchTreeJson, name: string): Promise<Visit> {
  const file = path.join(ARTIFACTS, `viewer-${name}.html`);
  await writeFile(file, searchHtml(json), 'utf8');
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  const visit: Visit = { page, blocked: [], errors: [] };
  await page.route('**', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    visit.blocked.push(url);
    return route.abort();
  });
  page.on('pageerror', (e) => visit.errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') visit.errors.push(m.text());
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
  return visit;
}

const drawnIds = (page: Page) => page.locator('g.node').evaluateAll((gs) => gs.map((g) => Number(g.getAttribute('data-id'))));

/** Node ids under `id` (itself excluded). */
function subtree(json: SearchTreeJson, id: number): number[] {
  const out: number[] = [];
  const stack = json.nodes.filter((n) => n.parent === id).map((n) => n.id);
  while (stack.length > 0) {
    const c = stack.pop()!;
    out.push(c);
    stack.push(...json.nodes.filter((n) => n.parent === c).map((n) => n.id));
  }
  return out;
}

describe.skipIf(!HAVE_CHROMIUM)(`the HTML viewer in headless Chromium${HAVE_CHROMIUM ? '' : ` (skipped: ${CHROMIUM} is absent; apt-get install chromium)`}`, () => {
  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  describe.skipIf(!MODELS_READY)('a real beam search (N = 16, M = 4) on the shipped models', () => {
    let json: SearchTreeJson;
    let visit: Visit;
    beforeAll(async () => {
      json = (await realSearch('beam', 16)).json;
      visit = await open(json, 'beam');
    });
    afterAll(async () => {
      await visit?.page.close();
    });

    it('draws every node of the tree, once', async () => {
      const ids = await drawnIds(visit.page);
      expect(ids.sort((a, b) => a - b)).toEqual(json.nodes.map((n) => n.id));
      expect(await visit.page.locator('#drawn').textContent()).toBe(`${json.nodes.length} of ${json.nodes.length} nodes shown`);
    });

    it('highlights the chosen path: its nodes and the links between them', async () => {
      const chosen = json.nodes.filter((n) => n.fate === 'chosen').map((n) => n.id);
      expect(chosen.length).toBeGreaterThan(1);
      const marked = await visit.page.locator('g.node.chosen').evaluateAll((gs) => gs.map((g) => Number(g.getAttribute('data-id'))));
      expect(marked.sort((a, b) => a - b)).toEqual(chosen);
      const links = visit.page.locator('path.link.chosen');
      expect(await links.count()).toBe(chosen.length - 1);
      expect(await links.first().evaluate((p) => getComputedStyle(p).stroke)).toBe(CHOSEN_BLUE);
      const pruned = visit.page.locator('g.node.pruned').first();
      expect(Number(await pruned.evaluate((g) => getComputedStyle(g).opacity))).toBeLessThan(1);
    });

    it('shows the question, the answer, the vote and the usage in the panel', async () => {
      const panel = (await visit.page.locator('#panel').textContent())!;
      expect(panel).toContain(json.question);
      expect(await visit.page.locator('.answer').textContent()).toBe(json.answer);
      expect(panel).toContain(`Vote over ${json.candidates.length} candidates`);
      const chosen = json.vote.find((g) => g.chosen)!;
      expect(await visit.page.locator('#panel tr.chosen').textContent()).toBe(`★ ${chosen.answer}${chosen.count}${chosen.scoreSum.toFixed(2)}`);
      expect(panel).toContain(String(json.usage.policyTokensGenerated));
      expect(panel).toContain(String(json.usage.prmTokensScored));
    });

    it('shows a clicked node’s full step text, reward and log-probability', async () => {
      const target = json.nodes.find((n) => n.kind === 'step' && n.fate === 'pruned')!;
      await visit.page.locator(`g.node[data-id="${target.id}"]`).click();
      expect(await visit.page.locator('#node-text').textContent()).toBe(target.text);
      const details = (await visit.page.locator('#details').textContent())!;
      expect(details).toContain(target.reward!.toFixed(3));
      expect(details).toContain(target.logprob.toFixed(2));
      expect(details).toContain(`#${target.id} · step · depth ${target.depth}`);
      await visit.page.screenshot({ path: path.join(ARTIFACTS, 'viewer-beam-16.png') });
    });

    it('hides a collapsed subtree and shows it again on expand', async () => {
      const target = json.nodes.find((n) => n.fate === 'chosen' && n.depth === 1)!;
      const hidden = subtree(json, target.id);
      expect(hidden.length).toBeGreaterThan(1);
      await visit.page.locator(`g.node[data-id="${target.id}"]`).click();
      await visit.page.locator('#toggle-subtree').click();
      const shown = await drawnIds(visit.page);
      expect(shown).toHaveLength(json.nodes.length - hidden.length);
      expect(shown.filter((id) => hidden.includes(id))).toEqual([]);
      expect(await visit.page.locator(`g.node.collapsed[data-id="${target.id}"]`).count()).toBe(1);
      await visit.page.screenshot({ path: path.join(ARTIFACTS, 'viewer-beam-16-collapsed.png') });
      await visit.page.locator('#toggle-subtree').click();
      expect(await drawnIds(visit.page)).toHaveLength(json.nodes.length);
    });

    it('collapses a subtree on double-click too', async () => {
      const target = json.nodes.find((n) => n.fate === 'chosen' && n.depth === 2)!;
      await visit.page.locator(`g.node[data-id="${target.id}"]`).dblclick();
      expect(await drawnIds(visit.page)).toHaveLength(json.nodes.length - subtree(json, target.id).length);
      await visit.page.locator('#expand-all').click();
      expect(await drawnIds(visit.page)).toHaveLength(json.nodes.length);
    });

    it('made no network request and threw nothing', () => {
      expect(visit.blocked).toEqual([]);
      expect(visit.errors).toEqual([]);
    });
  });

  describe('a tree of N = 64 beams over 10 steps (641 nodes)', () => {
    const json = serializeSearch(beamLikeResult(64, 4, 10), {
      question: 'A synthetic beam search: 64 beams of width 4, ten steps.',
      searchOptions: { strategy: 'beam', n: 64, beamWidth: 4, aggregation: 'min' },
    });
    let visit: Visit;
    beforeAll(async () => {
      visit = await open(json, 'beam-64x10');
    });
    afterAll(async () => {
      await visit?.page.close();
    });

    it('draws all 641 nodes and fits them in the view', async () => {
      expect(json.nodes).toHaveLength(641);
      expect(await visit.page.locator('g.node').count()).toBe(641);
      const box = (await visit.page.locator('svg#tree > g').boundingBox())!;
      const svg = (await visit.page.locator('svg#tree').boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(svg.x - 1);
      expect(box.y).toBeGreaterThanOrEqual(svg.y - 1);
      expect(box.x + box.width).toBeLessThanOrEqual(svg.x + svg.width + 1);
      expect(box.y + box.height).toBeLessThanOrEqual(svg.y + svg.height + 1);
      await visit.page.locator('#show-chosen').click();
      await visit.page.screenshot({ path: path.join(ARTIFACTS, 'viewer-beam-64x10.png') });
    });

    it('collapses every pruned branch with one button', async () => {
      await visit.page.locator('#collapse-pruned').click();
      const prunedUnderKept = json.nodes.filter((n) => n.fate === 'pruned' && n.parent !== null && json.nodes[n.parent]!.fate !== 'pruned');
      const hidden = prunedUnderKept.flatMap((n) => subtree(json, n.id));
      expect(await visit.page.locator('g.node').count()).toBe(641 - hidden.length);
      await visit.page.locator('#expand-all').click();
      expect(await visit.page.locator('g.node').count()).toBe(641);
    });

    it('zooms with the wheel', async () => {
      const before = await visit.page.locator('svg#tree > g').getAttribute('transform');
      await visit.page.mouse.move(400, 400);
      await visit.page.mouse.wheel(0, -400);
      expect(await visit.page.locator('svg#tree > g').getAttribute('transform')).not.toBe(before);
    });

    it('made no network request and threw nothing', () => {
      expect(visit.blocked).toEqual([]);
      expect(visit.errors).toEqual([]);
    });
  });

  describe('step text that looks like HTML', () => {
    it('is shown as text and cannot break out of the embedded JSON', async () => {
      const result = beamLikeResult(4, 2, 2);
      const evil = '</script><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> \u2028 & <b>';
      result.tree[1]!.stepText = evil;
      const json = serializeSearch(result, { question: 'q </script>', searchOptions: { strategy: 'beam', n: 4, beamWidth: 2, aggregation: 'min' } });
      const visit = await open(json, 'escaping');
      try {
        expect(await visit.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
        expect(await visit.page.locator('g.node').count()).toBe(json.nodes.length);
        await visit.page.locator('g.node[data-id="1"]').click();
        expect(await visit.page.locator('#node-text').textContent()).toBe(evil);
        expect(visit.blocked).toEqual([]);
        expect(visit.errors).toEqual([]);
      } finally {
        await visit.page.close();
      }
    });
  });
});
