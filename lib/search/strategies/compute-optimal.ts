import type { BackendModelInfo } from '../../backends/types.js';
import { OptionError } from '../../errors.js';
import { budgetFor, checkCalibration, checkCalibrationModels, type CalibrationTable } from '../calibration-table.js';
import { difficultyScore, levelOf } from '../difficulty.js';
import { resolveParams, type ResolvedOptions, type ResolvedParams } from '../options.js';
import type { Strategy } from '../strategy.js';
import { attemptScores } from '../tree.js';
import type { StrategyName, StrategyParams } from '../types.js';
import { bestOfN } from './best-of-n.js';

/** The caller's parameters, under the table's aggregation where the caller gave none (plan checks one given). */
function givenParams(o: ResolvedOptions, table: CalibrationTable): Partial<StrategyParams> {
  return { aggregation: table.aggregation, ...o.given };
}

/** The parameters the table's choice runs with: the caller's, then the choice's, n = budget by default. */
function choiceParams(o: ResolvedOptions, table: CalibrationTable, budget: number, level: number): ResolvedParams {
  const choice = table.choices[String(budget)]![String(level)]!;
  return resolveParams(choice.strategy, { ...givenParams(o, table), ...choice.params, n: choice.params.n ?? budget });
}

function plan(o: ResolvedOptions): { table: CalibrationTable; budget: number } {
  if (o.calibration === null) throw new OptionError('Strategy `compute-optimal` needs a `calibration` table');
  const table = checkCalibration(o.calibration);
  // The thresholds are on the scale of the table's aggregation: a search that asks for another would
  // bin its questions by the wrong measure. Without one it runs under the table's.
  const asked = o.given.aggregation;
  if (asked !== undefined && asked !== table.aggregation) {
    throw new OptionError(
      `The calibration table's difficulty thresholds were measured with aggregation \`${table.aggregation}\`, ` +
        `but this search asks for \`${asked}\`; leave aggregation unset, set it to ${table.aggregation}, or calibrate for ${asked}`,
    );
  }
  const available = o.n - table.difficultySamples;
  const budget = budgetFor(table, available);
  if (available < 1 || budget === null) {
    throw new OptionError(
      `Expected \`n\` to leave room for a calibrated budget after ${table.difficultySamples} difficulty samples, ` +
        `got n=${o.n}; calibrated budgets: ${Object.keys(table.choices).join(', ')}`,
    );
  }
  return { table, budget };
}

/**
 * Estimates the question's difficulty from difficultySamples best-of-n samples (charged to the budget;
 * their mean score under the table's aggregation), bins it with the table's thresholds, and runs the
 * table's choice for that level at the largest calibrated budget that the rest of n affords. The
 * samples are finished solutions, so they join the choice's candidates when the answer is chosen
 * rather than being thrown away, and so do samples drawn with whatever of the budget the choice cannot
 * use; `thinktree calibrate` runs this same strategy with each choice forced (singleChoiceTable), so
 * the table was fit with them.
 */
export function computeOptimal(lookup: (name: StrategyName) => Strategy): Strategy {
  return {
    name: 'compute-optimal',
    needsPrm: () => true,
    validate(o: ResolvedOptions, info: BackendModelInfo) {
      const { table, budget } = plan(o);
      checkCalibrationModels(table, info);
      for (let level = 1; level <= table.thresholds.length + 1; level++) {
        const p = choiceParams(o, table, budget, level);
        const inner = lookup(p.strategy);
        inner.validate?.({ ...o, ...p }, info);
        const cost = inner.cost(p, o);
        if (cost > budget) {
          throw new OptionError(
            `Calibration choice for budget ${budget}, level ${level} (${p.strategy}) costs ${cost} generations`,
          );
        }
      }
    },
    cost(p, o) {
      const { table, budget } = plan({ ...o, ...p });
      return table.difficultySamples + budget;
    },
    async run(ctx, root, p) {
      const { table, budget } = plan({ ...ctx.options, ...p });
      const given = givenParams(ctx.options, table);
      const sampleParams = resolveParams('best-of-n', { ...given, n: table.difficultySamples });
      const samples = await bestOfN.run(ctx, root, sampleParams);
      const difficulty = difficultyScore(
        samples.candidates.map((c) => ({ stepScores: attemptScores(c) })),
        table.aggregation,
      );
      const level = levelOf(difficulty, table.thresholds);
      const chosen = table.choices[String(budget)]![String(level)]!;
      const base = { kind: 'compute-optimal' as const, difficulty, level, budget, chosen };
      if (ctx.exhausted) return { ...samples, aggregation: table.aggregation, details: base };
      const inner = choiceParams(ctx.options, table, budget, level);
      const strategy = lookup(inner.strategy);
      const out = await strategy.run(ctx, root, inner);
      // Beam search needs a multiple of its width (14 runs 12): what the choice leaves of the budget
      // is spent on more samples for the same answer choice rather than not at all.
      const leftover = budget - strategy.cost(inner, ctx.options);
      const extra =
        leftover > 0 && !ctx.exhausted
          ? (await bestOfN.run(ctx, root, resolveParams('best-of-n', { ...given, n: leftover }))).candidates
          : [];
      return {
        ...out,
        candidates: [...samples.candidates, ...out.candidates, ...extra],
        aggregation: inner.aggregation,
        details: { ...base, inner: out.details },
      };
    },
  };
}
