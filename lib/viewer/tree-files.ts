/**
 * Search-tree pages for an evaluation: one HTML viewer page per problem and configuration, in
 * `<dir>/<configuration>/<problem id>.html`, and `<dir>/index.html` linking them all with each answer's
 * verdict. `treeRecorder` wraps the searcher that an evaluation runs, so pages are written as the
 * searches finish and no result is held.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvalRecord } from '../eval/dataset.js';
import type { EvalConfig } from '../eval/plan.js';
import { isCorrect, type Searcher } from '../eval/runner.js';
import type { SearchOptions, SearchResult } from '../search/types.js';
import { mathTask } from '../tasks/math/task.js';
import { searchHtml } from './html.js';
import { serializeSearch } from './serialize.js';

export interface TreePage {
  record: EvalRecord;
  /** The configuration's label and budget (`beam`, 16). */
  label: string;
  budget: number;
  answer: string | null;
  correct: boolean;
  /** Relative to the folder. */
  file: string;
}

/** A file name from a problem id (`test/algebra/12.json` → `test_algebra_12.json`). */
export function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 120) || 'problem';
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export class TreeFolder {
  readonly pages: TreePage[] = [];
  private readonly taken = new Set<string>();

  constructor(readonly dir: string) {}

  /** Writes one search's page; returns its path. */
  async write(
    record: EvalRecord,
    config: Pick<EvalConfig, 'label' | 'budget'>,
    searchOptions: Omit<SearchOptions, 'backend'>,
    result: SearchResult,
    models: { policy?: string | null; prm?: string | null } = {},
  ): Promise<string> {
    const folder = `${safeName(config.label)}-N${config.budget}`;
    let file = `${folder}/${safeName(record.uniqueId)}.html`;
    for (let i = 2; this.taken.has(file); i++) file = `${folder}/${safeName(record.uniqueId)}-${i}.html`;
    this.taken.add(file);
    const json = serializeSearch(result, {
      question: record.problem,
      searchOptions: { ...searchOptions, aggregation: searchOptions.aggregation ?? 'last' },
      models,
      ...(searchOptions.task === undefined ? {} : { task: searchOptions.task }),
    });
    const full = path.join(this.dir, file);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, searchHtml(json), 'utf8');
    this.pages.push({
      record,
      label: config.label,
      budget: config.budget,
      answer: result.answer,
      correct: isCorrect(searchOptions.task ?? mathTask, result, record.answer),
      file,
    });
    return full;
  }

  /** `index.html`: one row per problem, one column per configuration, each cell a link to its tree. */
  async writeIndex(title = 'thinktree search trees'): Promise<string> {
    const columns = [...new Set(this.pages.map((p) => `${p.label} N=${p.budget}`))];
    const problems = [...new Map(this.pages.map((p) => [p.record.uniqueId, p.record])).values()];
    const cell = new Map(this.pages.map((p) => [`${p.record.uniqueId}\u0000${p.label} N=${p.budget}`, p]));
    const rows = problems.map((r) => {
      const cells = columns.map((c) => {
        const p = cell.get(`${r.uniqueId}\u0000${c}`);
        if (p === undefined) return '<td></td>';
        const mark = p.correct ? '✓' : '✗';
        return `<td class="${p.correct ? 'right' : 'wrong'}"><a href="${escapeHtml(encodeURI(p.file))}">${mark} ${escapeHtml(p.answer ?? '(none)')}</a></td>`;
      });
      return `<tr><td>${r.level}</td><td title="${escapeHtml(r.problem)}">${escapeHtml(r.problem.length > 90 ? `${r.problem.slice(0, 89)}…` : r.problem)}</td><td>${escapeHtml(r.answer)}</td>${cells.join('')}</tr>`;
    });
    const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font: 13px/1.45 system-ui, sans-serif; margin: 24px; color: #1d232b; }
table { border-collapse: collapse; } td, th { padding: 3px 8px; border-bottom: 1px solid #e6e9ed; text-align: left; vertical-align: top; }
a { color: inherit; text-decoration: none; } a:hover { text-decoration: underline; }
td.right { color: #15803d; } td.wrong { color: #b91c1c; }
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p>${problems.length} problems × ${columns.length} configurations; each cell opens the search's tree (✓ right, ✗ wrong).</p>
<table><tr><th>level</th><th>problem</th><th>reference</th>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>
${rows.join('\n')}
</table></body></html>
`;
    const file = path.join(this.dir, 'index.html');
    await mkdir(this.dir, { recursive: true });
    await writeFile(file, html, 'utf8');
    return file;
  }
}

/**
 * A searcher that writes each finished search's page into `folder`. The evaluation's jobs are told apart
 * by question (the record) and by the options a configuration sets (strategy, n, temperature).
 */
export function treeRecorder(
  searcher: Searcher,
  records: readonly EvalRecord[],
  configs: readonly EvalConfig[],
  folder: TreeFolder,
  models: { policy?: string | null; prm?: string | null } = {},
): Searcher {
  const byProblem = new Map<string, EvalRecord>();
  for (const r of records) if (!byProblem.has(r.problem)) byProblem.set(r.problem, r);
  const configOf = (o: Omit<SearchOptions, 'backend'>) =>
    configs.find(
      (c) =>
        c.strategy === o.strategy &&
        (c.params.n ?? c.budget) === o.n &&
        (c.params.temperature === undefined || c.params.temperature === o.temperature),
    );
  return {
    async search(question, options) {
      const result = await searcher.search(question, options);
      const record = byProblem.get(question);
      const config = configOf(options);
      if (record !== undefined && config !== undefined) {
        const { signal: _signal, ...recorded } = options;
        await folder.write(record, config, recorded, result, models);
      }
      return result;
    },
  };
}
