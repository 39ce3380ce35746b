/**
 * Tensor names: llama.cpp's (`blk.N.attn_q.weight`) ↔ Hugging Face's
 * (`model.layers.N.self_attn.q_proj.weight`), for the tensors of a Llama / Qwen2 decoder. Reward-head
 * tensors (`score.0.weight`, `v_head.weight`) have no llama.cpp name and keep their Hugging Face name.
 */

const GLOBAL: ReadonlyArray<[gguf: string, hf: string]> = [
  ['token_embd.weight', 'model.embed_tokens.weight'],
  ['output_norm.weight', 'model.norm.weight'],
  ['output.weight', 'lm_head.weight'],
];

const PER_LAYER: ReadonlyArray<[gguf: string, hf: string]> = [
  ['attn_norm.weight', 'input_layernorm.weight'],
  ['attn_q.weight', 'self_attn.q_proj.weight'],
  ['attn_q.bias', 'self_attn.q_proj.bias'],
  ['attn_k.weight', 'self_attn.k_proj.weight'],
  ['attn_k.bias', 'self_attn.k_proj.bias'],
  ['attn_v.weight', 'self_attn.v_proj.weight'],
  ['attn_v.bias', 'self_attn.v_proj.bias'],
  ['attn_output.weight', 'self_attn.o_proj.weight'],
  ['ffn_norm.weight', 'post_attention_layernorm.weight'],
  ['ffn_gate.weight', 'mlp.gate_proj.weight'],
  ['ffn_up.weight', 'mlp.up_proj.weight'],
  ['ffn_down.weight', 'mlp.down_proj.weight'],
];

/** llama.cpp's per-dimension RoPE frequency divisors (Llama 3.1 scaling), [head_dim / 2] F32. */
export const ROPE_FREQS_TENSOR = 'rope_freqs.weight';

const GGUF_LAYER = /^blk\.(\d+)\.(.+)$/;
const HF_LAYER = /^model\.layers\.(\d+)\.(.+)$/;
const HF_OF = new Map(PER_LAYER);
const GGUF_OF = new Map(PER_LAYER.map(([g, h]) => [h, g]));
const HF_GLOBAL = new Map(GLOBAL);
const GGUF_GLOBAL = new Map(GLOBAL.map(([g, h]) => [h, g]));

/** The Hugging Face name of a llama.cpp tensor name, or undefined when it has none here. */
export function hfTensorName(ggufName: string): string | undefined {
  const global = HF_GLOBAL.get(ggufName);
  if (global !== undefined) return global;
  const m = GGUF_LAYER.exec(ggufName);
  if (m === null) return undefined;
  const part = HF_OF.get(m[2]!);
  return part === undefined ? undefined : `model.layers.${m[1]}.${part}`;
}

/** The llama.cpp name of a Hugging Face tensor name; names llama.cpp has no entry for are kept as they are. */
export function ggufTensorName(hfName: string): string {
  const global = GGUF_GLOBAL.get(hfName);
  if (global !== undefined) return global;
  const m = HF_LAYER.exec(hfName);
  const part = m === null ? undefined : GGUF_OF.get(m[2]!);
  return part === undefined ? hfName : `blk.${m![1]}.${part}`;
}

/** Whether a Hugging Face tensor holds rows of the q or k projection (permuted for GGUF arch `llama`). */
export function isQueryOrKey(hfName: string): 'q' | 'k' | undefined {
  const m = HF_LAYER.exec(hfName);
  if (m === null) return undefined;
  if (m[2] === 'self_attn.q_proj.weight' || m[2] === 'self_attn.q_proj.bias') return 'q';
  if (m[2] === 'self_attn.k_proj.weight' || m[2] === 'self_attn.k_proj.bias') return 'k';
  return undefined;
}
