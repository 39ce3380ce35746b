/**
 * Budgets. A search's budget is a number of generations `n` (the unit search-and-learn and Snell et al.
 * compare strategies by) and, optionally, a hard cap on policy tokens.
 *
 * What one generation is, per strategy (usage.generations reports exactly this):
 * - majority, best-of-n, weighted-best-of-n: one sampled solution; n solutions cost n.
 * - beam: one beam; n beams cost n (every iteration generates one step for each of the n beams, as in
 *   search-and-learn, whose N is the number of beams).
 * - lookahead (beam search with k rollout steps per candidate): n beams cost n·(k+1).
 * - dvts: n = (n / M subtrees) × M candidates per step; costs n.
 * - mcts: one simulation (a root-to-terminal walk that expands the leaves it reaches); n simulations cost
 *   n. A simulation can create several steps, so compare MCTS with others by tokens and FLOPs as well.
 * - revisions: one attempt (a first attempt or a revision); n attempts cost n.
 * - compute-optimal: its difficulty samples (one generation each) plus the chosen strategy's cost.
 *
 * The token cap counts policy tokens generated (rollouts and revisions included). It is never exceeded:
 * each batch of B steps may generate at most floor(remaining / B) tokens per step, and when that is
 * below one token the search stops and answers from what it has. stopReason is 'token-cap' when the cap
 * stopped a batch or cut a step short.
 */
export class TokenBudget {
  /** Set once the cap stopped a batch. */
  exhausted = false;
  /** Set once the cap cut a step short (the step ended at the cap's share, not at its own end). */
  cut = false;

  constructor(readonly cap: number) {}

  /** The most tokens each of `count` steps may generate now, given `used` tokens so far; 0 = stop. */
  perStepAllowance(count: number, used: number): number {
    if (!Number.isFinite(this.cap)) return Number.POSITIVE_INFINITY;
    const allowance = Math.floor((this.cap - used) / count);
    if (allowance < 1) {
      this.exhausted = true;
      return 0;
    }
    return allowance;
  }
}
