/** Per-problem results → rows, level groups, Markdown and SVG: the report eval and demo both write. */

import { aggregateResults, levelGroups, type EvalRow, type LevelGroup } from './aggregate.js';
import { markdownReport } from './markdown.js';
import type { SkippedConfig } from './plan.js';
import type { ProblemResult } from './runner.js';
import { formatDuration } from './duration.js';
import { accuracyChart } from './svg.js';

export interface Report {
  rows: EvalRow[];
  groups: LevelGroup[];
  markdown: string;
  svg: string;
}

export interface ReportOptions {
  title?: string;
  /** Level groups spec (`1-2,3,4-5`); null: one per level. */
  levelGroups?: string | null;
  notes?: readonly string[];
  skipped?: readonly SkippedConfig[];
}

export function buildReport(results: readonly ProblemResult[], options: ReportOptions = {}): Report {
  const rows = aggregateResults(results);
  const groups = levelGroups(rows.map((r) => r.level), options.levelGroups ?? null);
  const notes = [...(options.notes ?? []), ...(options.skipped ?? []).map((s) => `not run: ${s.label} at N=${s.budget} (${s.reason})`)];
  return {
    rows,
    groups,
    markdown: markdownReport(rows, groups, { title: options.title, notes }),
    svg: accuracyChart(rows, groups, { title: options.title }),
  };
}

/** One line on what a run cost: searches, wall time, tokens and their rate, FLOPs. */
export function costLine(results: readonly ProblemResult[], wallMs: number): string {
  const tokens = results.reduce((s, r) => s + r.tokens, 0);
  const flops = results.reduce((s, r) => s + r.flops, 0);
  return (
    `${results.length} searches in ${formatDuration(wallMs)}: ${tokens} policy+PRM tokens ` +
    `(${Math.round(tokens / (wallMs / 1000))} tok/s), ${(flops / 1e12).toFixed(3)} TFLOP`
  );
}
