/**
 * The pairs file: one JSON object a line in the layout TRL's DPOTrainer reads as a conversational
 * preference dataset with an explicit prompt (`prompt` a list of messages ending with the user turn,
 * `chosen` and `rejected` each one assistant message), with the judge's scores, the split thoughts and
 * responses and the prompt's identity kept in extra columns (TRL's own UltraFeedback conversion names
 * the scores `score_chosen` / `score_rejected`). The assistant messages hold the whole output, thought
 * included: the model is trained to write the thought that led to the preferred response.
 */

export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}

export interface PairRecord {
  /** [{ role: 'user', content: the thought-prompted instruction }]. */
  prompt: [ChatTurn];
  /** [{ role: 'assistant', content: the best-scored output, thought and marker included }]. */
  chosen: [ChatTurn];
  /** [{ role: 'assistant', content: the worst-scored output }]. */
  rejected: [ChatTurn];
  /** The judge's scores of the two responses (before length control). */
  score_chosen: number;
  score_rejected: number;
  /** The scores the pair was chosen by (length-controlled when a penalty was set; else the judge's). */
  ranked_chosen: number;
  ranked_rejected: number;
  thought_chosen: string;
  thought_rejected: string;
  response_chosen: string;
  response_rejected: string;
  /** The instruction without the thought prompt. */
  instruction: string;
  /** The prompt's id from the prompts file (its line when it has none). */
  id: string;
  /** The prompt's level, when the prompts file gives one. */
  level?: number;
}

const KEYS = [
  'prompt', 'chosen', 'rejected', 'score_chosen', 'score_rejected', 'ranked_chosen', 'ranked_rejected', 'thought_chosen',
  'thought_rejected', 'response_chosen', 'response_rejected', 'instruction', 'id', 'level',
] as const;

function turn(v: unknown, role: ChatTurn['role'], field: string): string | null {
  if (!Array.isArray(v) || v.length !== 1) return `\`${field}\` must be a list of one message, got ${JSON.stringify(v)?.slice(0, 60)}`;
  const m = v[0] as Record<string, unknown> | null;
  if (typeof m !== 'object' || m === null || m.role !== role || typeof m.content !== 'string' || Object.keys(m).length !== 2) {
    return `\`${field}\` must be [{"role": "${role}", "content": string}], got ${JSON.stringify(v).slice(0, 80)}`;
  }
  return null;
}

/** Problems with `v` as a pairs-file line, in words (empty: it is a valid PairRecord). */
export function pairRecordProblems(v: unknown): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return ['a pair must be a JSON object'];
  const r = v as Record<string, unknown>;
  const out: string[] = [];
  for (const k of Object.keys(r)) if (!(KEYS as readonly string[]).includes(k)) out.push(`unknown field \`${k}\``);
  for (const [field, role] of [['prompt', 'user'], ['chosen', 'assistant'], ['rejected', 'assistant']] as const) {
    const p = turn(r[field], role, field);
    if (p) out.push(p);
  }
  for (const k of ['score_chosen', 'score_rejected', 'ranked_chosen', 'ranked_rejected'] as const) {
    if (typeof r[k] !== 'number' || !Number.isFinite(r[k])) out.push(`\`${k}\` must be a finite number, got ${JSON.stringify(r[k])}`);
  }
  for (const k of ['thought_chosen', 'thought_rejected', 'response_chosen', 'response_rejected', 'instruction', 'id'] as const) {
    if (typeof r[k] !== 'string') out.push(`\`${k}\` must be a string, got ${JSON.stringify(r[k])}`);
  }
  for (const k of ['response_chosen', 'response_rejected'] as const) if (r[k] === '') out.push(`\`${k}\` must not be empty`);
  if (typeof r.ranked_chosen === 'number' && typeof r.ranked_rejected === 'number' && !(r.ranked_chosen > r.ranked_rejected)) {
    out.push(`\`ranked_chosen\` (${r.ranked_chosen}) must be greater than \`ranked_rejected\` (${r.ranked_rejected})`);
  }
  if (r.level !== undefined && (typeof r.level !== 'number' || !Number.isInteger(r.level))) out.push(`\`level\` must be an integer when present, got ${JSON.stringify(r.level)}`);
  return out;
}

/** The pairs as JSONL text (one object a line, keys in the documented order). */
export function pairsJsonl(pairs: readonly PairRecord[]): string {
  return pairs
    .map((p) => {
      const ordered: Record<string, unknown> = {};
      for (const k of KEYS) if (p[k] !== undefined) ordered[k] = p[k];
      return `${JSON.stringify(ordered)}\n`;
    })
    .join('');
}
