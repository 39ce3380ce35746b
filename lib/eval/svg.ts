/**
 * The accuracy-vs-budget chart as a standalone SVG (written by hand: no plotting dependency). One panel
 * per level group, budgets on a log2 x axis, accuracy 0–100 % on the y axis, one polyline per strategy
 * with a marker at each budget it ran, one legend for all panels. A strategy that ran at a single budget
 * (greedy decoding) is also drawn as a dashed horizontal line across the panel: the baseline the
 * curves are read against.
 */

import { poolRows, type EvalRow, type LevelGroup } from './aggregate.js';

export interface ChartOptions {
  /** @default 'Accuracy vs budget' */
  title?: string;
  /** Panels per row. @default 3 */
  columns?: number;
}

// Tableau 10: distinguishable, and still readable in grayscale by marker position.
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const PANEL_W = 320;
const PANEL_H = 240;
/** Plot area inside a panel: [left, right) × [top, bottom) offsets from the panel's corner. */
const PLOT = { left: 52, right: PANEL_W - 16, top: 30, bottom: PANEL_H - 46 };
const Y_TICKS = [0, 25, 50, 75, 100];
const HEADER_H = 36;
const LEGEND_ROW_H = 20;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const fmt = (v: number): string => (Math.round(v * 10) / 10).toString();

export function accuracyChart(rows: readonly EvalRow[], groups: readonly LevelGroup[], options: ChartOptions = {}): string {
  const strategies = [...new Set(rows.map((r) => r.strategy))];
  const budgets = [...new Set(rows.map((r) => r.budget))].sort((a, b) => a - b);
  const columns = Math.max(1, Math.min(options.columns ?? 3, groups.length));
  const panelRows = Math.ceil(groups.length / columns);
  const width = columns * PANEL_W;
  // Legend cells as wide as the longest name (about 6.5 px a character at 11 px sans-serif).
  const legendItemW = Math.max(90, 40 + Math.ceil(6.5 * Math.max(0, ...strategies.map((s) => s.length))));
  const legendPerRow = Math.max(1, Math.floor((width - 16) / legendItemW));
  const legendH = Math.ceil(strategies.length / legendPerRow) * LEGEND_ROW_H + 8;
  const top = HEADER_H + legendH;
  const height = top + panelRows * PANEL_H;

  // log2 x axis; a single budget gets one unit of room on each side.
  let lo = Math.log2(budgets[0] ?? 1);
  let hi = Math.log2(budgets[budgets.length - 1] ?? 1);
  if (hi === lo) {
    lo -= 1;
    hi += 1;
  }
  const x = (budget: number) => PLOT.left + ((Math.log2(budget) - lo) / (hi - lo)) * (PLOT.right - PLOT.left);
  const y = (accuracy: number) => PLOT.bottom - accuracy * (PLOT.bottom - PLOT.top);
  const color = (s: string) => PALETTE[strategies.indexOf(s) % PALETTE.length]!;
  const isBaseline = (s: string) => new Set(rows.filter((r) => r.strategy === s).map((r) => r.budget)).size === 1;
  const dash = (s: string) => (isBaseline(s) ? ' stroke-dasharray="5,3"' : '');

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title ?? 'Accuracy vs budget')}</text>`,
    '<g class="legend">',
  ];
  strategies.forEach((s, i) => {
    const lx = 16 + (i % legendPerRow) * legendItemW;
    const ly = HEADER_H + Math.floor(i / legendPerRow) * LEGEND_ROW_H + 10;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${color(s)}" stroke-width="2.5"${dash(s)}/>`,
      `<circle cx="${lx + 11}" cy="${ly}" r="3" fill="${color(s)}"/>`,
      `<text x="${lx + 28}" y="${ly + 4}">${escapeXml(s)}</text>`,
    );
  });
  out.push('</g>');

  groups.forEach((group, gi) => {
    const ox = (gi % columns) * PANEL_W;
    const oy = top + Math.floor(gi / columns) * PANEL_H;
    const pooled = poolRows(rows, group);
    const n = pooled.reduce((m, r) => Math.max(m, r.n), 0);
    out.push(`<g class="panel" transform="translate(${ox},${oy})">`);
    out.push(`<text x="${(PLOT.left + PLOT.right) / 2}" y="18" text-anchor="middle" font-size="12" font-weight="bold">${escapeXml(group.title)} (n=${n})</text>`);
    for (const t of Y_TICKS) {
      const ty = fmt(y(t / 100));
      out.push(
        `<line x1="${PLOT.left}" y1="${ty}" x2="${PLOT.right}" y2="${ty}" stroke="#e0e0e0"/>`,
        `<text x="${PLOT.left - 6}" y="${fmt(y(t / 100) + 4)}" text-anchor="end">${t}</text>`,
      );
    }
    for (const b of budgets) {
      const tx = fmt(x(b));
      out.push(
        `<line x1="${tx}" y1="${PLOT.bottom}" x2="${tx}" y2="${PLOT.bottom + 4}" stroke="#333333"/>`,
        `<text x="${tx}" y="${PLOT.bottom + 16}" text-anchor="middle">${b}</text>`,
      );
    }
    out.push(
      `<path d="M${PLOT.left},${PLOT.top} V${PLOT.bottom} H${PLOT.right}" fill="none" stroke="#333333"/>`,
      `<text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 34}" text-anchor="middle">budget N (generations, log2 scale)</text>`,
      `<text transform="translate(14,${(PLOT.top + PLOT.bottom) / 2}) rotate(-90)" text-anchor="middle">accuracy (%)</text>`,
    );
    for (const s of strategies) {
      const points = pooled.filter((r) => r.strategy === s).sort((a, b) => a.budget - b.budget);
      if (points.length === 0) continue;
      const coords = points.map((p) => `${fmt(x(p.budget))},${fmt(y(p.accuracy))}`);
      if (isBaseline(s)) {
        const by = fmt(y(points[0]!.accuracy));
        out.push(`<line class="baseline" x1="${PLOT.left}" y1="${by}" x2="${PLOT.right}" y2="${by}" stroke="${color(s)}" stroke-width="1.5"${dash(s)}/>`);
      }
      out.push(
        `<polyline class="series" data-strategy="${escapeXml(s)}" points="${coords.join(' ')}" fill="none" stroke="${color(s)}" stroke-width="2"/>`,
      );
      for (const p of points) {
        out.push(
          `<circle cx="${fmt(x(p.budget))}" cy="${fmt(y(p.accuracy))}" r="3" fill="${color(s)}"><title>${escapeXml(`${s}, N=${p.budget}: ${(100 * p.accuracy).toFixed(1)}% (${p.correct}/${p.n})`)}</title></circle>`,
        );
      }
    }
    out.push('</g>');
  });
  out.push('</svg>', '');
  return out.join('\n');
}
