import type { SearchContext } from '../context.js';
import type { ResolvedParams } from '../options.js';
import type { Strategy } from '../strategy.js';
import type { PathNode } from '../tree.js';

/** Per-node MCTS state; `value` is the mean of backed-up values, or the PRM score before any visit. */
interface Stats {
  visits: number;
  valueSum: number;
  /** The PRM's score of the node's step (OpenR: a child's initial value is its PRM step score). */
  initial: number;
  prior: number;
  /** null until expanded. */
  children: PathNode[] | null;
}

function value(s: Stats): number {
  return s.visits === 0 ? s.initial : s.valueSum / s.visits;
}

/**
 * PUCT as in OpenR / AlphaZero: value + prior × (ln((N + c_base + 1) / c_base) + c_init) × √N / (n + 1),
 * with N the parent's visits and n the child's. Before the parent's first visit the exploration term is
 * 0, so the child with the best PRM score is taken.
 */
export function puct(parent: Stats, child: Stats, cBase: number, cInit: number): number {
  const c = (Math.log((parent.visits + cBase + 1) / cBase) + cInit) * (Math.sqrt(parent.visits) / (child.visits + 1));
  return c * child.prior + value(child);
}

/**
 * Priors from the policy: each child's per-token probability exp(logprob / tokens), normalised over the
 * siblings (OpenR's `prob` of a legal action).
 */
function priors(children: readonly PathNode[]): number[] {
  const raw = children.map((c) => Math.exp(c.tokens > 0 ? c.logprob / c.tokens : 0));
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((r) => (sum > 0 ? r / sum : 1 / raw.length));
}

/**
 * MCTS over reasoning steps (OpenR's `vanila_mcts` with the PRM as value, `init_critic_value`): each
 * simulation walks from the root choosing children by PUCT, expanding every unexpanded node it enters
 * (expansionWidth sampled steps, duplicates dropped, each scored by the PRM), until it enters a terminal
 * node (EOS, final answer, or the depth limit, where the expansion generates to the end). The walk's
 * last node's value (its mean if visited, else its PRM score) is added to every node on the path, root
 * included. n is the number of simulations. Candidates are the distinct terminal nodes the simulations
 * reached; the answer is the weighted vote over them.
 */
export const mcts: Strategy = {
  name: 'mcts',
  needsPrm: () => true,
  cost: (p) => p.n,
  async run(ctx, root, p) {
    const stats = new Map<PathNode, Stats>();
    stats.set(root, { visits: 0, valueSum: 0, initial: 0, prior: 1, children: null });
    const selections: number[][] = [];
    const reached: PathNode[] = [];
    const seen = new Set<PathNode>();

    const rootReady = (await expand(ctx, root, p, stats)) !== null;
    for (let sim = 0; sim < p.n && rootReady; sim++) {
      ctx.charge(1);
      const path: PathNode[] = [];
      let node = root;
      let capped = false;
      for (;;) {
        const parent = stats.get(node)!;
        let best: PathNode | null = null;
        let bestScore = -Infinity;
        for (const child of parent.children!) {
          const s = puct(parent, stats.get(child)!, p.cBase, p.cInit);
          if (s > bestScore) {
            bestScore = s;
            best = child;
          }
        }
        node = best!;
        path.push(node);
        if (node.finished) break;
        if (stats.get(node)!.children === null && (await expand(ctx, node, p, stats)) === null) {
          capped = true;
          break;
        }
      }
      const leaf = stats.get(node)!;
      const leafValue = value(leaf);
      for (const n of [root, ...path]) {
        const s = stats.get(n)!;
        s.visits++;
        s.valueSum += leafValue;
      }
      selections.push(path.map((n) => n.id));
      if ((node.finished || capped) && !seen.has(node)) {
        seen.add(node);
        reached.push(node);
      }
      if (capped) break;
    }
    for (const [n, s] of stats) {
      n.visits = s.visits;
      n.value = value(s);
      n.prior = s.prior;
    }
    return { candidates: reached, selection: 'weighted', details: { kind: 'mcts', selections } };
  },
};

/** Expands a node; null when the token cap left no room (the node stays unexpanded). */
async function expand(
  ctx: SearchContext,
  node: PathNode,
  p: ResolvedParams,
  stats: Map<PathNode, Stats>,
): Promise<PathNode[] | null> {
  const toEnd = node.attemptDepth + 1 >= p.maxIterations;
  const made = await ctx.expand(
    Array.from({ length: p.expansionWidth }, () => node),
    { params: p, toEnd },
  );
  if (made === null) return null;
  await ctx.score(made);
  const texts = new Set<string>();
  const children = made.filter((c) => !texts.has(c.stepText) && texts.add(c.stepText) !== undefined);
  const pr = priors(children);
  children.forEach((c, i) => stats.set(c, { visits: 0, valueSum: 0, initial: c.prmScore!, prior: pr[i]!, children: null }));
  stats.get(node)!.children = children;
  // Each node is expanded once, and terminal children never: their backend nodes are no longer needed.
  const kept = new Set(children.filter((c) => !c.finished));
  await ctx.release([...made.filter((c) => !kept.has(c)), ...(node.kind === 'root' ? [] : [node])]);
  return children;
}
