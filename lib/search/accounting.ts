import type { BackendModelInfo } from '../backends/types.js';
import type { Usage } from './types.js';

/**
 * Forward FLOPs of running `tokens` new tokens through a model whose context already holds `context`
 * tokens: 2 × params per token (the matrix products), plus attention: token i of the batch attends to
 * context + i + 1 positions, and each query-key pair costs 4 × layers × hidden (QKᵀ and the weighted sum
 * of V, a multiply and an add each).
 */
export function forwardFlops(params: number, attentionWidth: number, tokens: number, context: number): number {
  if (tokens <= 0) return 0;
  const pairs = tokens * context + (tokens * (tokens + 1)) / 2;
  return 2 * params * tokens + 4 * attentionWidth * pairs;
}

/** Counts what a search spends. Every backend call's cost goes through here. */
export class UsageMeter {
  generations = 0;
  policySteps = 0;
  policyTokensGenerated = 0;
  policyTokensPrefilled = 0;
  prmTokensScored = 0;
  flops = 0;
  private readonly started = performance.now();

  constructor(private readonly info: BackendModelInfo) {}

  /** A step of `tokens` generated on a context of `context` policy tokens. */
  generated(tokens: number, context: number): void {
    this.policySteps++;
    this.policyTokensGenerated += tokens;
    this.flops += forwardFlops(this.info.policyParams, this.info.policyAttentionWidth, tokens, context);
  }

  /** Prompt or appended text prefilled by the policy. */
  prefilled(tokens: number, context: number): void {
    this.policyTokensPrefilled += tokens;
    this.flops += forwardFlops(this.info.policyParams, this.info.policyAttentionWidth, tokens, context);
  }

  /** Tokens the PRM processed (question prefill or a step being scored). */
  scored(tokens: number, context: number): void {
    this.prmTokensScored += tokens;
    this.flops += forwardFlops(this.info.prmParams, this.info.prmAttentionWidth, tokens, context);
  }

  elapsedMs(): number {
    return performance.now() - this.started;
  }

  snapshot(): Usage {
    return {
      generations: this.generations,
      policySteps: this.policySteps,
      policyTokensGenerated: this.policyTokensGenerated,
      policyTokensPrefilled: this.policyTokensPrefilled,
      prmTokensScored: this.prmTokensScored,
      flops: this.flops,
      wallMs: this.elapsedMs(),
    };
  }
}
