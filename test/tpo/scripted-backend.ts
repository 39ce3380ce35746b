// A SearchBackend whose outputs are a function of (user turn, assistant prefix, sample index): the TPO
// pipeline's logic tested without a model. Every node made must be released (liveNodes back to 0).
import type { BackendModelInfo, GeneratedStep, NodeId, RootInfo, ScoreResult, SearchBackend, StepSampling } from '../../lib/backends/types.js';

export interface ScriptedOutput {
  text: string;
  finish?: GeneratedStep['finish'];
}

interface Node {
  userTurn: string;
  prefix: string;
  /** Index among the root's forks (0 for the root itself). */
  index: number;
  forks: number;
}

export class ScriptedTpoBackend implements SearchBackend {
  readonly info: BackendModelInfo = { policyParams: 1, prmParams: 0, policyAttentionWidth: 1, prmAttentionWidth: 0 };
  private readonly nodes = new Map<number, Node>();
  private next = 1;
  readonly samplings: StepSampling[] = [];

  constructor(private readonly script: (userTurn: string, prefix: string, index: number) => ScriptedOutput) {}

  get liveNodes(): number {
    return this.nodes.size;
  }

  private add(n: Node): NodeId {
    const id = this.next++ as NodeId;
    this.nodes.set(id, n);
    return id;
  }

  private get(id: NodeId): Node {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`node ${id} is not live`);
    return n;
  }

  async createRoot(question: string): Promise<RootInfo> {
    return { node: this.add({ userTurn: question, prefix: '', index: 0, forks: 0 }), promptTokens: question.length, prmTokens: 0 };
  }

  async fork(parents: readonly NodeId[]): Promise<NodeId[]> {
    return parents.map((p) => {
      const parent = this.get(p);
      return this.add({ ...parent, index: parent.forks++, forks: 0 });
    });
  }

  async release(nodes: readonly NodeId[]): Promise<void> {
    for (const id of nodes) {
      this.get(id);
      this.nodes.delete(id);
    }
  }

  async generate(nodes: readonly NodeId[], sampling: StepSampling): Promise<GeneratedStep[]> {
    this.samplings.push(sampling);
    return nodes.map((id) => {
      const n = this.get(id);
      const out = this.script(n.userTurn, n.prefix, n.index);
      return { text: out.text, tokens: out.text.length, finish: out.finish ?? 'eos', logprob: 0 };
    });
  }

  async appendText(nodes: readonly NodeId[], texts: readonly string[]): Promise<number[]> {
    nodes.forEach((id, i) => (this.get(id).prefix += texts[i]!));
    return texts.map((t) => t.length);
  }

  async score(): Promise<ScoreResult> {
    throw new Error('the scripted backend has no PRM');
  }
}
