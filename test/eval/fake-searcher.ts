import type { Searcher } from '../../lib/eval/runner.js';
import type { Candidate, SearchOptions, SearchResult, StrategyDetails } from '../../lib/search/types.js';

type Options = Omit<SearchOptions, 'backend'>;

export interface FakeReply {
  answer: string | null;
  candidates?: Candidate[];
  policyTokens?: number;
  prmTokens?: number;
  flops?: number;
  details?: StrategyDetails;
}

/** A searcher whose replies a test scripts; records every call and the most calls in flight at once. */
export class FakeSearcher implements Searcher {
  readonly calls: { question: string; options: Options }[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly reply: (question: string, options: Options) => FakeReply | Promise<FakeReply>,
    private readonly delayMs = 1,
  ) {}

  async search(question: string, options: Options): Promise<SearchResult> {
    this.calls.push({ question, options });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, this.delayMs));
      const r = await this.reply(question, options);
      const result: SearchResult = {
        strategy: options.strategy,
        answer: r.answer,
        completion: null,
        candidates: r.candidates ?? [],
        tree: [],
        usage: {
          generations: options.n,
          policySteps: 0,
          policyTokensGenerated: r.policyTokens ?? 0,
          policyTokensPrefilled: 0,
          prmTokensScored: r.prmTokens ?? 0,
          flops: r.flops ?? 0,
          wallMs: 0,
        },
        stopReason: 'done',
      };
      if (r.details !== undefined) result.details = r.details;
      return result;
    } finally {
      this.inFlight--;
    }
  }
}

export function candidate(stepScores: number[], answer: string | null = null): Candidate {
  return { text: '', steps: stepScores.map(() => 's'), stepScores, aggregatedScore: stepScores.at(-1) ?? null, answer, finished: true };
}
