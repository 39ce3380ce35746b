import type { Strategy } from '../strategy.js';
import type { PathNode } from '../tree.js';
import { runChains } from './chains.js';

/**
 * Sequential revisions (Snell et al. 2024): n attempts split into n / revisionsPerChain parallel chains
 * of revisionsPerChain attempts each. A chain's first attempt is sampled from the question; each next
 * attempt is generated on a branch of the previous attempt's last node with the task's revision prompt
 * appended, so the policy sees every earlier attempt of its chain in context and reuses their KV. The
 * PRM judges every attempt as a fresh solution (a branch of the question's PRM context). The answer is
 * chosen over all attempts of all chains by revisionSelect (weighted vote, best score, or majority).
 *
 * Not modelled: Snell et al. cap the context at four previous attempts; here a chain's context holds
 * all of its attempts (revisionsPerChain defaults to at most 4 for that reason).
 */
export const revisions: Strategy = {
  name: 'revisions',
  needsPrm: (p) => p.revisionSelect !== 'majority',
  cost: (p) => p.n,
  async run(ctx, root, p) {
    const chains = p.n / p.revisionsPerChain;
    const score = p.revisionSelect !== 'majority';
    const all: PathNode[] = [];
    ctx.charge(chains);
    let last = await runChains(
      ctx,
      Array.from({ length: chains }, () => root),
      { params: p, score, branch: true, releaseFinished: false, group: (i) => i },
    );
    all.push(...last.filter((n) => n.kind === 'step'));
    for (let r = 1; r < p.revisionsPerChain && !ctx.exhausted; r++) {
      // A chain cut by the token cap has nothing to revise; it does not go on.
      const from = last.filter((n) => n.kind === 'step' && n.finished);
      if (from.length === 0) break;
      const prompts = await ctx.appendPrompt(from, ctx.options.task.revisionPrompt, score ? root : undefined);
      await ctx.release(last.filter((n) => n !== root));
      ctx.charge(prompts.length);
      last = await runChains(ctx, prompts, { params: p, score, branch: false, releaseFinished: false });
      all.push(...last.filter((n) => n.kind === 'step'));
    }
    await ctx.release(last.filter((n) => n !== root));
    return {
      candidates: all,
      selection: p.revisionSelect === 'weighted' ? 'weighted' : p.revisionSelect === 'best' ? 'naive' : 'majority',
      details: { kind: 'revisions', chains, revisionsPerChain: p.revisionsPerChain },
    };
  },
};
