/**
 * The results as Markdown: per level group, a table of accuracy (%) with strategies as rows and budgets
 * as columns; then one table of the compute spent per problem over all the problems.
 */

import { poolRows, type EvalRow, type LevelGroup, type PooledRow } from './aggregate.js';

export interface MarkdownOptions {
  /** @default 'Accuracy vs budget' */
  title?: string;
  /** Lines printed under the title (settings, skipped cells). */
  notes?: readonly string[];
}

/** A cell no configuration filled. */
const EMPTY = '–';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function formatPercent(accuracy: number): string {
  return `${(100 * accuracy).toFixed(1)}%`;
}

function strategiesOf(rows: readonly { strategy: string }[]): string[] {
  return [...new Set(rows.map((r) => r.strategy))];
}

function budgetsOf(rows: readonly { budget: number }[]): number[] {
  return [...new Set(rows.map((r) => r.budget))].sort((a, b) => a - b);
}

/** A strategies × budgets table of `value(row)`. */
function table(pooled: readonly PooledRow[], budgets: readonly number[], value: (r: PooledRow) => string): string[] {
  const lines = [
    `| strategy | ${budgets.map((b) => `N=${b}`).join(' | ')} |`,
    `|:--|${budgets.map(() => '--:').join('|')}|`,
  ];
  for (const s of strategiesOf(pooled)) {
    const cells = budgets.map((b) => {
      const r = pooled.find((p) => p.strategy === s && p.budget === b);
      return r === undefined ? EMPTY : value(r);
    });
    lines.push(`| ${cell(s)} | ${cells.join(' | ')} |`);
  }
  return lines;
}

/** Problems in a group: the most any configuration answered (skipped cells answer none). */
function problemsIn(pooled: readonly PooledRow[]): number {
  return pooled.reduce((m, r) => Math.max(m, r.n), 0);
}

export function markdownReport(rows: readonly EvalRow[], groups: readonly LevelGroup[], options: MarkdownOptions = {}): string {
  const budgets = budgetsOf(rows);
  const out: string[] = [`## ${options.title ?? 'Accuracy vs budget'}`, ''];
  if (options.notes && options.notes.length > 0) out.push(...options.notes.map((n) => `- ${n}`), '');
  out.push('Cells: accuracy (% of problems answered correctly); N = generations (the strategy\'s `n`).', '');
  for (const group of groups) {
    const pooled = poolRows(rows, group);
    if (pooled.length === 0) continue;
    const n = problemsIn(pooled);
    out.push(`### ${group.title} (${n} problem${n === 1 ? '' : 's'})`, '', ...table(pooled, budgets, (r) => formatPercent(r.accuracy)), '');
  }
  const all = poolRows(rows, { title: 'All levels', levels: [...new Set(rows.map((r) => r.level))] });
  if (all.length > 0) {
    out.push(
      '### Compute per problem (all levels)',
      '',
      'Cells: policy tokens generated + PRM tokens scored, and forward GFLOPs, per problem.',
      '',
      ...table(all, budgets, (r) => `${Math.round(r.tokens / r.n)} tok / ${(r.flops / r.n / 1e9).toFixed(2)} GF`),
      '',
    );
  }
  return out.join('\n');
}
