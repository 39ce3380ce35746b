/** `GET /v1/models`: the policy, the PRM and the search "models" (`beam-16`, …) over them. */
import type { ModelCard, ModelList } from '../protocol/models.js';
import { STRATEGY_NAMES } from '../search/params.js';
import type { ServerContext } from './context.js';
import { nowSeconds, type Reply } from './exchange.js';

/** The budgets listed for each strategy; any positive N is accepted in a request. */
const LISTED_BUDGETS = [4, 8, 16, 64] as const;

export function searchModelNames(ctx: ServerContext): string[] {
  const hasPrm = ctx.names.prm !== null;
  const strategies = STRATEGY_NAMES.filter((s) => (hasPrm || s === 'majority') && (s !== 'compute-optimal' || ctx.calibration !== undefined));
  return strategies.flatMap((s) => LISTED_BUDGETS.map((n) => `${s}-${n}`));
}

export function listModels(ctx: ServerContext): Reply {
  const created = nowSeconds();
  const card = (id: string, root: string, maxLen: number): ModelCard => ({
    id,
    object: 'model',
    created,
    owned_by: 'thinktree',
    root,
    parent: null,
    max_model_len: maxLen,
  });
  const data = [card(ctx.names.policy, ctx.engine.policy.info.id, ctx.policyContext)];
  if (ctx.names.prm !== null && ctx.engine.prm) data.push(card(ctx.names.prm, ctx.engine.prm.info.id, ctx.prmContext));
  for (const name of searchModelNames(ctx)) data.push({ ...card(name, ctx.names.policy, ctx.policyContext), parent: ctx.names.policy });
  return { status: 200, body: { object: 'list', data } satisfies ModelList };
}
