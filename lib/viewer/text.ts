/** A search for the terminal: the answer, the chosen path with step scores, the vote, the tree, the usage. */

import { oneLine, renderTree } from '../eval/tree-view.js';
import type { SearchResult } from '../search/types.js';
import type { SearchTreeJson } from './serialize.js';

/** `1.23 GFLOP`-style numbers. */
export function siNumber(x: number, unit: string): string {
  for (const [scale, prefix] of [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) {
    if (x >= scale) return `${(x / scale).toFixed(2)} ${prefix}${unit}`;
  }
  return `${Math.round(x)} ${unit}`;
}

export interface SearchTextOptions {
  /** Most lines of the tree. @default 40 */
  treeLines?: number;
  /** Longest step text on one line. @default 70 */
  stepChars?: number;
}

export function searchText(result: SearchResult, json: SearchTreeJson, options: SearchTextOptions = {}): string {
  const chars = options.stepChars ?? 70;
  const o = json.options;
  const lines = [
    `Question: ${oneLine(json.question, 200)}`,
    `Answer: ${json.answer ?? '(none)'}`,
    '',
    `Chosen path (PRM score of each step; path value ${json.completion?.score?.toFixed(3) ?? '-'} by ${o.aggregation}):`,
  ];
  const c = json.completion;
  if (c === null || c.steps.length === 0) lines.push('  (no candidate)');
  else c.steps.forEach((s, i) => lines.push(`  ${c.stepScores[i]?.toFixed(3) ?? '  -  '}  ${oneLine(s, chars)}`));

  lines.push('', `Vote over ${json.candidates.length} candidate${json.candidates.length === 1 ? '' : 's'}:`);
  if (json.vote.length === 0) lines.push('  (no candidate gave an answer)');
  for (const g of json.vote) {
    lines.push(`  ${g.chosen ? '*' : ' '} ${g.answer.padEnd(12)} ${String(g.count).padStart(3)} vote${g.count === 1 ? ' ' : 's'}  score sum ${g.scoreSum.toFixed(3)}`);
  }

  lines.push('', 'Search tree (* chosen path, + kept, x pruned; PRM score):');
  lines.push(...renderTree(result, { maxLines: options.treeLines ?? 40, maxStepChars: chars - 10 }).split('\n').map((l) => `  ${l}`));

  const u = json.usage;
  lines.push(
    '',
    `Usage: ${u.policyTokensGenerated} tokens generated, ${u.policyTokensPrefilled} prefilled, ${u.prmTokensScored} scored by the PRM; ` +
      `${u.policySteps} steps; ${siNumber(u.flops, 'FLOP')}; ${(u.wallMs / 1000).toFixed(2)} s` +
      (json.stopReason === 'token-cap' ? ' (stopped by the token cap)' : ''),
  );
  return `${lines.join('\n')}\n`;
}
