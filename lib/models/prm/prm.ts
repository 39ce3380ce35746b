/**
 * A process reward model with its own KV cache shaped like the search tree. The question is prefilled
 * once at the root; a child forks its parent's PRM sequence (sharing its KV pages) and appends only its
 * new step; one native forward scores the pending steps of many nodes at once. Every node's tokens
 * equal a from-scratch encode of its text (compose.ts), so incremental rewards equal full recomputes.
 */
import type { NativeHeadSpec, NativeModel, SeqId } from '../../native/addon-types.js';
import { OptionError, abortError } from '../../errors.js';
import { withCancel } from '../../native/cancel.js';
import type { ModelConfig } from '../config.js';
import { NativeHandle, loadNative, type LoadedInfo } from '../lifecycle.js';
import type { TextTokenizer } from '../tokenizer.js';
import { TokenComposer, type Extension, type Tokenized } from './compose.js';
import { PrmFormatError, PrmNodeError } from './errors.js';
import { checkContext } from '../errors.js';
import { checkStepTexts, rejectForbidden, rewardOf, type BoundFormat, type PrmFormatName } from './format.js';
import { checkPrmOptions, preparePrm, type LoadPrmOptions } from './prepare-prm.js';
import { RewardCache } from './reward-cache.js';

/** A node of the PRM tree. Branded so it cannot be mixed up with native sequence ids. */
export type PrmNodeId = number & { readonly __prmNode: never };

/** LoadedInfo (paramCount: the decoder's and the head's) plus the bound format. */
export interface PrmInfo extends LoadedInfo {
  format: PrmFormatName;
  head: NativeHeadSpec;
}

export interface PrmScores {
  /** Reward of each node's new step, a probability in [0, 1]. */
  rewards: number[];
  /** PRM tokens each node ran in this call (the step's, plus any re-encoded at the boundary). */
  tokens: number[];
}

interface PrmNode {
  seq: SeqId;
  /** The node's PRM text and its tokens (what the native sequence holds). */
  state: Tokenized;
  /** Steps scored on the path to this node. */
  steps: number;
  /** Layout text held back until the next step (see StepText.tail). */
  tail: string;
}

interface Plan {
  node: PrmNode;
  ext: Extension;
  tail: string;
}

// Node ids come from one counter for every Prm in the process, so a node of another Prm is never a
// node of this one (it is not live here: PrmNodeError) instead of naming a different node.
let nextPrmNode = 1;

/** Drop one kept token when the new text added none, so the read position is a pending token. */
function withPendingLast(ext: Extension): Extension {
  if (ext.append.length > 0 || ext.tokens.length === 0) return ext;
  const keep = ext.tokens.length - 1;
  return { ...ext, keep, append: ext.tokens.slice(keep) };
}

export class Prm extends NativeHandle {
  private readonly nodes = new Map<number, PrmNode>();
  private readonly composer: TokenComposer;
  /** Rewards read by scoreAt, keyed by their token prefix (reward-cache.ts); used when the prefix cache is on. */
  private readonly rewardCache = new RewardCache();

  private constructor(
    native: NativeModel,
    private readonly dir: string,
    readonly config: ModelConfig,
    readonly tokenizer: TextTokenizer,
    /** The bound format: layout, head and reward rule. */
    readonly format: BoundFormat,
    readonly info: PrmInfo,
    minWindowChars: number,
  ) {
    super(native, 'Prm');
    const { addSpecialTokens } = format.layout;
    this.composer = new TokenComposer((text, special) => tokenizer.encode(text, { addSpecialTokens: special }), {
      addSpecialTokens,
      minWindowChars,
    });
  }

  static async load(dir: string, options: LoadPrmOptions = {}): Promise<Prm> {
    checkPrmOptions(options);
    const { native, prepared, info: loaded } = await loadNative(dir, options, async (precision, onProgress) => {
      const p = await preparePrm(dir, { ...options, precision, onProgress });
      return { ...p, spec: p.prepared.spec };
    });
    const { format } = prepared;
    if (loaded.outputWidth !== format.outputs) {
      native.dispose();
      throw new PrmFormatError(dir, `the native ${format.head.kind} head returns rows of ${loaded.outputWidth} values; the ${format.name} format reads ${format.outputs}`);
    }
    const info: PrmInfo = { ...loaded, format: format.name, head: format.head };
    return new Prm(native, dir, prepared.prepared.config, prepared.prepared.tokenizer, format, info, prepared.minWindowChars);
  }

  private node(id: PrmNodeId): PrmNode {
    // After dispose every node is gone with the native model: that is the error, not "not live".
    this.live();
    const node = this.nodes.get(id);
    if (node === undefined) throw new PrmNodeError(id);
    return node;
  }

  private encode(text: string): Int32Array {
    return this.tokenizer.encode(text, { addSpecialTokens: this.format.layout.addSpecialTokens });
  }

  /** Throws when a format with a step tag would read a position that does not hold it. */
  private checkReadToken(tokens: Int32Array, step: number): void {
    const want = this.format.readToken;
    const got = tokens[tokens.length - 1];
    if (want !== undefined && got !== want) {
      throw new PrmFormatError(
        this.dir,
        `step ${step}: the ${this.format.name} layout should end on token ${want} (${JSON.stringify(this.tokenizer.decode([want]))}) but ends on ` +
          `${got} (${JSON.stringify(this.tokenizer.decode([got]))}): the step's text merges with the step marker`,
      );
    }
  }

  /** Rewards of `rows` ([count × outputWidth]) at row indices `at`; `steps[i]` names row at[i] in errors. */
  private rewards(rows: Float32Array, at: readonly number[], steps: readonly string[]): number[] {
    const width = this.info.outputWidth;
    return at.map((r, i) => rewardOf(this.format.reward, rows, r * width, width, { prm: this.name, step: steps[i]! }));
  }

  /** The PRM as errors name it. */
  private get name(): string {
    return `PRM ${this.dir}`;
  }

  /**
   * The reference path: the question and all steps laid out, encoded from scratch and run in one
   * forward on a fresh sequence; the reward of step i is read at the last token of the text through
   * step i. (Where a step's end is not a token boundary of the whole text, each step runs on its own.)
   */
  scoreSteps(question: string, steps: readonly string[]): Promise<number[]> {
    if (typeof question !== 'string') return Promise.reject(new OptionError('scoreSteps expects the question as a string'));
    try {
      rejectForbidden(this.format, question, 'the question', this.tokenizer.specialTokenTexts);
      checkStepTexts(this.format, steps, 'scoreSteps', this.tokenizer.specialTokenTexts);
    } catch (err) {
      return Promise.reject(err);
    }
    if (steps.length === 0) return Promise.reject(new OptionError('scoreSteps needs at least one step'));
    return this.queue.run(async () => {
      const native = this.live();
      const { layout } = this.format;
      let text = layout.prefix(question);
      let tail = '';
      const ends = steps.map((s, i) => {
        const st = layout.step(s, i);
        text += tail + st.text;
        tail = st.tail;
        const tokens = this.encode(text);
        checkContext(`scoreSteps(): step ${i}`, tokens.length, this.config.maxPositionEmbeddings);
        this.checkReadToken(tokens, i);
        return tokens;
      });
      const full = ends[ends.length - 1];
      const nested = ends.every((t) => t.every((id, i) => full[i] === id));
      const names = steps.map((_, i) => `step ${i}`);
      if (nested) return this.rewards(await this.forwardAll(native, full), ends.map((t) => t.length - 1), names);
      const out: number[] = [];
      for (const [i, tokens] of ends.entries()) out.push(...this.rewards(await this.forwardAll(native, tokens), [tokens.length - 1], [names[i]!]));
      return out;
    });
  }

  /** Rewards at `positions` of a raw token sequence, no template: the conformance entry point. */
  scoreIds(ids: ArrayLike<number>, positions: ArrayLike<number>): Promise<Float32Array> {
    const tokens = Int32Array.from(ids);
    const at = Array.from(positions);
    for (let i = 0; i < tokens.length; i++) {
      if (tokens[i] !== ids[i] || tokens[i] < 0) return Promise.reject(new OptionError(`token id at index ${i} is not a non-negative 32-bit integer: ${ids[i]}`));
    }
    if (tokens.length === 0) return Promise.reject(new OptionError('scoreIds needs at least one token id'));
    const bad = at.findIndex((p) => !Number.isInteger(p) || p < 0 || p >= tokens.length);
    if (bad >= 0) return Promise.reject(new OptionError(`position ${at[bad]} (index ${bad}) is outside the sequence [0, ${tokens.length})`));
    try {
      checkContext('scoreIds(): the input', tokens.length, this.config.maxPositionEmbeddings);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.queue.run(async () => Float32Array.from(this.rewards(await this.forwardAll(this.live(), tokens), at, at.map((p) => `position ${p}`))));
  }

  /**
   * Rewards at `positions[i]` (ascending) of each raw token sequence `inputs[i]`, through the prefix
   * cache: round r appends each input's tokens up to its r-th position and forwards them all together
   * with 'last', so pages an earlier call computed are reused (a forward over every position skips
   * nothing), and tokens after the last position never run. Every sequence is released before the
   * promise settles. `cachedTokens` counts the tokens the prefix cache let these forwards skip.
   */
  scoreAt(
    inputs: readonly (readonly number[])[],
    positions: readonly (readonly number[])[],
    signal?: AbortSignal,
  ): Promise<{ rewards: number[][]; cachedTokens: number }> {
    if (inputs.length !== positions.length) {
      return Promise.reject(new OptionError(`scoreAt needs one position list per input, got ${inputs.length} inputs and ${positions.length} lists`));
    }
    for (let i = 0; i < inputs.length; i++) {
      const ids = inputs[i]!, at = positions[i]!;
      const bad = ids.findIndex((t) => !Number.isInteger(t) || t < 0 || t > 0x7fffffff);
      if (bad >= 0) return Promise.reject(new OptionError(`input ${i}: token id at index ${bad} is not a non-negative 32-bit integer: ${ids[bad]}`));
      const badAt = at.findIndex((p, k) => !Number.isInteger(p) || p < 0 || p >= ids.length || (k > 0 && p <= at[k - 1]!));
      if (badAt >= 0) {
        return Promise.reject(new OptionError(`input ${i}: position ${at[badAt]} (index ${badAt}) is not ascending inside [0, ${ids.length})`));
      }
      // Tokens after the last position never run.
      const last = at.length > 0 ? at[at.length - 1]! + 1 : 0;
      try {
        checkContext(`scoreAt(): input ${i} up to position ${last - 1}`, last, this.config.maxPositionEmbeddings);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const width = this.info.outputWidth;
    // With the prefix cache on, rewards already read at the same token prefix come from the reward
    // cache, and only the positions missing from it run (usually the newest step's tag alone).
    const cache = this.info.prefixCache ? this.rewardCache : null;
    const keys = cache ? inputs.map((ids, i) => RewardCache.keys(ids, positions[i]!)) : null;
    const rewards: (number | undefined)[][] = inputs.map((_, i) => positions[i]!.map((_, k) => cache?.get(keys![i]![k]!)));
    const missing = positions.map((at, i) => at.flatMap((p, k) => (rewards[i]![k] === undefined ? [k] : [])));
    return this.queue.run(async () => {
      const native = this.live();
      const seqs: (SeqId | undefined)[] = [];
      const hitsBefore = native.kvStats().prefixHitTokens;
      try {
        for (let i = 0; i < inputs.length; i++) seqs.push(missing[i]!.length > 0 ? native.createSequence(0) : undefined);
        const appended = inputs.map(() => 0);
        for (let round = 0; ; round++) {
          const active = missing.flatMap((m, i) => (m.length > round ? [i] : []));
          if (active.length === 0) break;
          if (signal?.aborted) throw abortError(signal);
          for (const i of active) {
            const end = positions[i]![missing[i]![round]!]! + 1;
            native.appendTokens(seqs[i]!, Int32Array.from(inputs[i]!.slice(appended[i], end)));
            appended[i] = end;
          }
          const rows = await withCancel(signal, (id) => native.forward(Int32Array.from(active, (i) => seqs[i]!), 'last', id));
          active.forEach((i, j) => {
            const k = missing[i]![round]!;
            const r = rewardOf(this.format.reward, rows, j * width, width, { prm: this.name, step: `input ${i}, position ${positions[i]![k]!}` });
            rewards[i]![k] = r;
            cache?.set(keys![i]![k]!, r);
          });
        }
        return { rewards: rewards as number[][], cachedTokens: native.kvStats().prefixHitTokens - hitsBefore };
      } catch (err) {
        return this.nativeFailure(err, signal);
      } finally {
        const made = seqs.filter((q): q is SeqId => q !== undefined);
        if (made.length > 0 && !this.isDisposed) native.releaseMany(Int32Array.from(made));
      }
    });
  }

  /** A root node for `question`: its PRM prefix is encoded and prefilled once, for every path below it. */
  root(question: string, signal?: AbortSignal): Promise<PrmNodeId> {
    if (typeof question !== 'string') return Promise.reject(new OptionError('root expects the question as a string'));
    try {
      rejectForbidden(this.format, question, 'the question', this.tokenizer.specialTokenTexts);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.queue.run(async () => {
      if (signal?.aborted) throw abortError(signal);
      const native = this.live();
      const state = this.composer.full(this.format.layout.prefix(question));
      checkContext('root(): the question', state.tokens.length, this.config.maxPositionEmbeddings);
      const seq = native.createSequence(0);
      try {
        if (state.tokens.length > 0) {
          native.appendTokens(seq, state.tokens);
          await withCancel(signal, (id) => native.forward(Int32Array.of(seq), 'last', id));
        }
      } catch (err) {
        if (!this.isDisposed) native.release(seq);
        return this.nativeFailure(err, signal);
      }
      const id = nextPrmNode++ as PrmNodeId;
      this.nodes.set(id, { seq, state, steps: 0, tail: '' });
      return id;
    });
  }

  /** One child per entry of `parents` (repeat a parent to fork it several times); children share KV pages. */
  fork(parents: readonly PrmNodeId[]): Promise<PrmNodeId[]> {
    return this.queue.run(() => {
      const native = this.live();
      const from = parents.map((p) => this.node(p));
      const seqs = native.forkMany(Int32Array.from(from, (p) => p.seq));
      return from.map((p, i) => {
        const id = nextPrmNode++ as PrmNodeId;
        this.nodes.set(id, { ...p, seq: seqs[i] as SeqId });
        return id;
      });
    });
  }

  /** Releases nodes; KV pages whose last owner is gone return to the pool. All ids are checked first. */
  release(nodes: readonly PrmNodeId[]): Promise<void> {
    return this.queue.run(() => {
      const native = this.live();
      if (new Set(nodes).size !== nodes.length) throw new OptionError('release() got the same node twice');
      const seqs = Int32Array.from(nodes, (id) => this.node(id).seq);
      native.releaseMany(seqs);
      for (const id of nodes) this.nodes.delete(id);
    });
  }

  /**
   * Scores the newest step of each node: the step's text is appended to the node's PRM context (after
   * the steps scored before on its path) and the reward at its end is returned. One native forward
   * runs the new tokens of all nodes. Nodes are extended in place; fork first to keep a parent.
   */
  score(nodes: readonly PrmNodeId[], steps: readonly string[], signal?: AbortSignal): Promise<PrmScores> {
    try {
      checkStepTexts(this.format, steps, 'score', this.tokenizer.specialTokenTexts);
      if (!Array.isArray(nodes) || nodes.length !== steps.length) {
        throw new OptionError(`score() needs one step per node, got ${Array.isArray(nodes) ? nodes.length : 'no'} nodes and ${steps.length} steps`);
      }
      if (nodes.length === 0) throw new OptionError('score() needs at least one node');
      if (new Set(nodes).size !== nodes.length) throw new OptionError('score() got the same node twice; fork it to score two steps after it');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.queue.run(async () => {
      if (signal?.aborted) throw abortError(signal);
      const native = this.live();
      const plans: Plan[] = nodes.map((id, i) => {
        const node = this.node(id);
        const st = this.format.layout.step(steps[i], node.steps);
        const ext = withPendingLast(this.composer.extend(node.state, node.tail + st.text));
        checkContext(`score(): node ${id}, step ${node.steps}`, ext.tokens.length, this.config.maxPositionEmbeddings);
        this.checkReadToken(ext.tokens, i);
        return { node, ext, tail: st.tail };
      });
      const rows = await this.run(native, plans, signal);
      const names = plans.map((p, i) => `node ${nodes[i]!}, step ${p.node.steps}`);
      for (const { node, ext, tail } of plans) {
        node.state = { text: ext.text, tokens: ext.tokens };
        node.steps++;
        node.tail = tail;
      }
      return { rewards: this.rewards(rows, plans.map((_, i) => i), names), tokens: plans.map((p) => p.ext.append.length) };
    });
  }

  /** Rewrites each node's sequence tail and runs one forward; on failure the sequences get their old tokens back. */
  private async run(native: NativeModel, plans: readonly Plan[], signal?: AbortSignal): Promise<Float32Array> {
    let applied = 0;
    try {
      for (const { node, ext } of plans) {
        if (ext.keep < node.state.tokens.length) native.truncate(node.seq, ext.keep);
        native.appendTokens(node.seq, ext.append);
        applied++;
      }
      return await withCancel(signal, (id) => native.forward(Int32Array.from(plans, (p) => p.node.seq), 'last', id));
    } catch (err) {
      // Old tokens come back as pending: the KV they had is recomputed when next needed. (Disposed:
      // the sequences went with the model.)
      for (const { node, ext } of this.isDisposed ? [] : plans.slice(0, applied)) {
        native.truncate(node.seq, ext.keep);
        native.appendTokens(node.seq, node.state.tokens.subarray(ext.keep));
      }
      return this.nativeFailure(err, signal);
    }
  }

  /** The PRM text of a node (the layout of its question and scored steps, held-back tail excluded). */
  nodeText(node: PrmNodeId): string {
    return this.node(node).state.text;
  }

  /** A copy of the PRM tokens of a node (equal to a from-scratch encode of nodeText). */
  nodeTokens(node: PrmNodeId): Int32Array {
    return this.node(node).state.tokens.slice();
  }

  /** Live nodes (for leak audits). */
  get liveNodes(): number {
    return this.nodes.size;
  }

  /** Every node becomes invalid with the native model. */
  protected override onDispose(): void {
    this.nodes.clear();
    this.rewardCache.clear();
  }
}

/** Loads a process reward model from a Hugging Face model directory. */
export function loadPrm(dir: string, options?: LoadPrmOptions): Promise<Prm> {
  return Prm.load(dir, options);
}
