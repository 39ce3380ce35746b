/**
 * Per-problem results → rows of the results table, one per (strategy, budget, level); and the level
 * groups the Markdown tables and chart panels pool rows over.
 */

import { OptionError } from '../errors.js';
import type { ProblemResult } from './runner.js';

export interface EvalRow {
  strategy: string;
  budget: number;
  level: number;
  /** Problems. */
  n: number;
  correct: number;
  /** correct / n, in [0, 1]. */
  accuracy: number;
  /** Summed over the problems: usage.flops. */
  flops: number;
  /** Summed over the problems: policy tokens generated + PRM tokens scored. */
  tokens: number;
}

/** A set of levels reported together (one Markdown table, one chart panel). */
export interface LevelGroup {
  /** "Level 3", "Levels 1–2", "All levels". */
  title: string;
  levels: number[];
}

/** Rows pooled over a level group. */
export type PooledRow = Omit<EvalRow, 'level'>;

/**
 * One row per (strategy, budget, level), ordered by the strategy's first appearance in `results`, then
 * budget, then level.
 */
export function aggregateResults(results: readonly ProblemResult[]): EvalRow[] {
  const order = new Map<string, number>();
  const rows = new Map<string, EvalRow>();
  for (const r of results) {
    if (!order.has(r.strategy)) order.set(r.strategy, order.size);
    const key = `${r.strategy}\u0000${r.budget}\u0000${r.level}`;
    let row = rows.get(key);
    if (row === undefined) {
      row = { strategy: r.strategy, budget: r.budget, level: r.level, n: 0, correct: 0, accuracy: 0, flops: 0, tokens: 0 };
      rows.set(key, row);
    }
    row.n++;
    if (r.correct) row.correct++;
    row.flops += r.flops;
    row.tokens += r.tokens;
  }
  for (const row of rows.values()) row.accuracy = row.correct / row.n;
  return [...rows.values()].sort(
    (a, b) => order.get(a.strategy)! - order.get(b.strategy)! || a.budget - b.budget || a.level - b.level,
  );
}

/** Rows of the group's levels merged per (strategy, budget); same order as `rows`. */
export function poolRows(rows: readonly EvalRow[], group: LevelGroup): PooledRow[] {
  const pooled = new Map<string, PooledRow>();
  for (const r of rows) {
    if (!group.levels.includes(r.level)) continue;
    const key = `${r.strategy}\u0000${r.budget}`;
    const p = pooled.get(key) ?? { strategy: r.strategy, budget: r.budget, n: 0, correct: 0, accuracy: 0, flops: 0, tokens: 0 };
    p.n += r.n;
    p.correct += r.correct;
    p.flops += r.flops;
    p.tokens += r.tokens;
    pooled.set(key, p);
  }
  for (const p of pooled.values()) p.accuracy = p.correct / p.n;
  return [...pooled.values()];
}

function titleOf(levels: readonly number[]): string {
  if (levels.length === 1) return `Level ${levels[0]}`;
  const contiguous = levels.every((l, i) => i === 0 || l === levels[i - 1]! + 1);
  return contiguous ? `Levels ${levels[0]}–${levels[levels.length - 1]}` : `Levels ${levels.join(', ')}`;
}

/** Parses a level-groups spec like `1-2,3,4-5` into ascending ranges (syntax only). */
export function parseLevelGroups(spec: string): number[][] {
  return spec.split(',').map((part) => {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (m === null) throw new OptionError(`Level groups look like 1-2,3,4-5; got '${spec}'`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new OptionError(`Level group ${part.trim()} runs backwards`);
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  });
}

/**
 * Groups from a spec like `1-2,3,4-5` (null: one group per level present), keeping only levels present.
 * When there is more than one group, an "All levels" group comes last.
 */
export function levelGroups(presentLevels: readonly number[], spec: string | null = null): LevelGroup[] {
  const present = [...new Set(presentLevels)].sort((a, b) => a - b);
  let groups: number[][];
  if (spec === null) {
    groups = present.map((l) => [l]);
  } else {
    groups = parseLevelGroups(spec)
      .map((g) => g.filter((l) => present.includes(l)))
      .filter((g) => g.length > 0);
    if (groups.length === 0) throw new OptionError(`No level in '${spec}' occurs in the data (levels ${present.join(', ')})`);
  }
  const out = groups.map((levels) => ({ title: titleOf(levels), levels }));
  if (out.length > 1) out.push({ title: 'All levels', levels: present });
  return out;
}
