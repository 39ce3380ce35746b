import { abortError, OptionError } from '../errors.js';
import { SearchContext } from './context.js';
import { backendHasPrm, resolveOptions } from './options.js';
import { STRATEGIES } from './registry.js';
import type { StrategyOutcome } from './strategy.js';
import { toCandidate } from './tree.js';
import type { SearchOptions, SearchResult } from './types.js';
import { select } from './vote.js';

/**
 * Answers one question with a test-time search strategy over a SearchBackend.
 *
 * Every option is checked before the backend is touched (OptionError). The search releases every
 * backend node it created before it settles, also when it fails or is aborted; an aborted search
 * rejects with the signal's reason (an AbortError by default).
 */
export async function search(question: string, options: SearchOptions): Promise<SearchResult> {
  const o = resolveOptions(options);
  if (typeof question !== 'string') throw new OptionError('Expected the question to be a string');
  const strategy = STRATEGIES.get(o.strategy)!;
  const info = options.backend.info;
  const withPrm = strategy.needsPrm(o);
  if (withPrm && !backendHasPrm(info)) {
    throw new OptionError(
      `Strategy \`${o.strategy}\` scores steps with a process reward model, but the backend has none ` +
        '(info.prmParams is 0); create the backend with a PRM',
    );
  }
  strategy.validate?.(o, info);
  if (o.signal?.aborted) throw abortError(o.signal, 'the search');

  const ctx = new SearchContext(options.backend, question, o);
  let outcome: StrategyOutcome;
  try {
    const root = await ctx.createRoot(withPrm);
    outcome = await strategy.run(ctx, root, o);
  } catch (err) {
    try {
      await ctx.releaseAll();
    } catch {
      // The error that stopped the search is the one the caller needs.
    }
    throw err;
  }
  await ctx.releaseAll();

  const aggregation = outcome.aggregation ?? o.aggregation;
  const candidates = outcome.candidates.map((n) => toCandidate(n, o.task, aggregation));
  const pick = select(
    candidates.map((c) => ({ answer: c.answer, score: c.aggregatedScore })),
    outcome.selection,
    (a, b) => o.task.answersEqual(a, b),
    o.task.answerKey?.bind(o.task),
  );
  const chosen = pick >= 0 ? candidates[pick]! : null;
  const result: SearchResult = {
    strategy: o.strategy,
    answer: chosen?.answer ?? null,
    completion:
      chosen === null
        ? null
        : { text: chosen.text, steps: chosen.steps, stepScores: chosen.stepScores, score: chosen.aggregatedScore },
    candidates,
    tree: ctx.tree.records(),
    usage: ctx.usage.snapshot(),
    stopReason: ctx.exhausted || ctx.tokens.cut ? 'token-cap' : 'done',
  };
  if (outcome.details !== undefined) result.details = outcome.details;
  return result;
}
