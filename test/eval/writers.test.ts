import { describe, expect, it } from 'vitest';
import { aggregateResults, levelGroups } from '../../lib/eval/aggregate.js';
import { markdownReport } from '../../lib/eval/markdown.js';
import { accuracyChart, escapeXml } from '../../lib/eval/svg.js';
import { checkWellFormed, result } from './helpers.js';

// Levels 1 and 2; greedy at budget 1; majority at 1, 4, 16; beam at 4 and 16 only.
const results = [
  result('greedy', 1, 1, true),
  result('greedy', 1, 2, false),
  ...[1, 4, 16].flatMap((b) => [result('majority', b, 1, b >= 4), result('majority', b, 2, b === 16)]),
  ...[4, 16].flatMap((b) => [result('beam', b, 1, true), result('beam', b, 2, b === 16)]),
];
const rows = aggregateResults(results);
const groups = levelGroups(rows.map((r) => r.level));

/** The Markdown table under a `### title` heading, as rows of trimmed cells. */
function tableUnder(md: string, title: string): string[][] {
  const lines = md.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`### ${title}`));
  const out: string[][] = [];
  for (let i = at + 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    out.push(lines[i]!.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return out;
}

describe('markdownReport', () => {
  const md = markdownReport(rows, groups);

  it('writes one accuracy table per level group', () => {
    expect(md.match(/^### Level 1 \(1 problem\)$/m)).not.toBeNull();
    expect(md.match(/^### Level 2 \(1 problem\)$/m)).not.toBeNull();
    expect(md.match(/^### All levels \(2 problems\)$/m)).not.toBeNull();
  });

  it('puts strategies in rows and budgets in columns, with accuracy in percent', () => {
    expect(tableUnder(md, 'All levels')).toEqual([
      ['strategy', 'N=1', 'N=4', 'N=16'],
      [':--', '--:', '--:', '--:'],
      ['greedy', '50.0%', '–', '–'],
      ['majority', '0.0%', '50.0%', '100.0%'],
      ['beam', '–', '50.0%', '100.0%'],
    ]);
  });

  it('reports a single level by its own results', () => {
    expect(tableUnder(md, 'Level 2').slice(2)).toEqual([
      ['greedy', '0.0%', '–', '–'],
      ['majority', '0.0%', '0.0%', '100.0%'],
      ['beam', '–', '0.0%', '100.0%'],
    ]);
  });

  it('lists the notes it is given', () => {
    expect(markdownReport(rows, groups, { notes: ['seed 3'] })).toContain('\n- seed 3\n');
  });
});

describe('accuracyChart', () => {
  const svg = accuracyChart(rows, groups);

  it('is well-formed XML with an svg root', () => {
    const names = checkWellFormed(svg);
    expect(names[0]).toBe('svg');
  });

  it('draws one polyline per strategy in every panel', () => {
    const panels = svg.split('<g class="panel"').slice(1);
    expect(panels).toHaveLength(groups.length);
    for (const panel of panels) {
      const strategies = [...panel.matchAll(/<polyline class="series" data-strategy="([^"]+)"/g)].map((m) => m[1]);
      expect(strategies).toEqual(['greedy', 'majority', 'beam']);
    }
  });

  it('gives each polyline one point per budget the strategy ran', () => {
    const counts = [...svg.matchAll(/data-strategy="([^"]+)" points="([^"]+)"/g)].map((m) => [m[1], m[2]!.split(' ').length]);
    expect(counts.slice(0, 3)).toEqual([['greedy', 1], ['majority', 3], ['beam', 2]]);
  });

  it('places budgets on a log2 axis: 4 lies halfway between 1 and 16', () => {
    const majority = /data-strategy="majority" points="([^"]+)"/.exec(svg)![1]!.split(' ').map((p) => Number(p.split(',')[0]));
    expect(majority[1]! - majority[0]!).toBeCloseTo(majority[2]! - majority[1]!, 0);
  });

  it('maps accuracy to height: 100% sits above 50% above 0%', () => {
    const all = svg.split('<g class="panel"')[3]!;
    const ys = /data-strategy="majority" points="([^"]+)"/.exec(all)![1]!.split(' ').map((p) => Number(p.split(',')[1]));
    expect(ys[0]).toBeGreaterThan(ys[1]!);
    expect(ys[1]).toBeGreaterThan(ys[2]!);
    expect(ys[0]! - ys[1]!).toBeCloseTo(ys[1]! - ys[2]!, 0);
  });

  it('has axis labels and a legend entry per strategy', () => {
    expect(svg).toContain('budget N (generations, log2 scale)');
    expect(svg).toContain('accuracy (%)');
    const legend = svg.slice(svg.indexOf('<g class="legend">'), svg.indexOf('</g>'));
    expect([...legend.matchAll(/<text[^>]*>([^<]+)<\/text>/g)].map((m) => m[1])).toEqual(['greedy', 'majority', 'beam']);
  });

  it('draws a single-budget strategy as a dashed baseline across the panel', () => {
    expect(svg.match(/<line class="baseline"/g)).toHaveLength(groups.length);
  });

  it('escapes strategy names', () => {
    const odd = aggregateResults([result('a<b&"c"', 2, 1, true)]);
    const out = accuracyChart(odd, levelGroups([1]));
    checkWellFormed(out);
    expect(out).toContain(escapeXml('a<b&"c"'));
  });
});
