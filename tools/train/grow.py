"""Function-preserving growth of a trained small policy into a wider and deeper one (Net2Net /
bert2BERT style), so the large policy starts from what the small one knows instead of from noise:
training the 14x model from scratch costs ~10x the small model's CPU time per token, more than this
host can give it.

Rules (every tensor is [out_features, in_features]; old = the small model's part):
- Hidden width h -> H: old residual dims are the first h; new residual dims start at exactly 0,
  because every matrix that WRITES the residual stream (embed_tokens columns, o_proj and down_proj
  rows) is 0 there. RMSNorm then divides by sqrt(mean over H) = sqrt(h/H) * sqrt(mean over h), so
  every norm weight is multiplied by sqrt(h/H) to give the same normalised values.
- Heads keep head_dim (so RoPE and the attention scale are unchanged). Small query head j of KV
  group g goes to large head g * group_L + (j mod group_s); KV heads keep their index. New heads and
  new MLP units READ with N(0, 0.02) weights but WRITE through zero o_proj columns / down_proj columns.
- New layers are inserted after old ones with random reads and zero writes: identities at first.
Nothing is zero on both sides of a product, so every new weight gets a gradient from the first step.
`grow` returns the large module; at init its logits equal the small model's up to the eps inside
RMSNorm (checked by the caller).
"""

import math

import torch

import model as M


def head_map(small: "M.Spec", large: "M.Spec") -> list[int]:
    """Large query head index of each small query head."""
    if small.kv_heads != large.kv_heads:
        raise ValueError(f"growth keeps the KV heads: {small.kv_heads} vs {large.kv_heads}")
    gs, gl = small.heads // small.kv_heads, large.heads // large.kv_heads
    return [(j // gs) * gl + (j % gs) for j in range(small.heads)]


def layer_map(small: "M.Spec", large: "M.Spec") -> list[int | None]:
    """For each large layer, the small layer it copies, or None for a new (identity) layer. Old layers
    are spread evenly with new ones after them."""
    per = large.layers / small.layers
    origin: list[int | None] = [None] * large.layers
    for i in range(small.layers):
        origin[int(math.floor(i * per))] = i
    return origin


@torch.no_grad()
def grow(small: "M.CausalLM", large_spec: "M.Spec", seed: int) -> "M.CausalLM":
    s, L = small.s, large_spec
    if s.head_dim != L.head_dim or L.hidden < s.hidden or L.intermediate < s.intermediate or L.layers < s.layers:
        raise ValueError("growth needs the same head_dim and no smaller width, MLP or depth")
    large = M.build(L)
    M.init_weights(large, seed)  # random reads everywhere; writes are zeroed below
    h, d = s.hidden, s.head_dim
    scale = math.sqrt(h / L.hidden)
    heads = head_map(s, L)
    q_rows = torch.cat([torch.arange(j * d, (j + 1) * d) for j in heads])  # small q rows -> large rows
    sw = small.state_dict()
    lw = dict(large.named_parameters())

    emb = lw["model.embed_tokens.weight"]
    emb.zero_()
    emb[:, :h] = sw["model.embed_tokens.weight"]
    lw["model.norm.weight"].fill_(scale)
    lw["model.norm.weight"][:h] = sw["model.norm.weight"] * scale

    for i, origin in enumerate(layer_map(s, L)):
        p = f"model.layers.{i}."
        o_w, down_w = lw[p + "self_attn.o_proj.weight"], lw[p + "mlp.down_proj.weight"]
        o_w.zero_()
        down_w.zero_()
        if origin is None:
            continue
        q = f"model.layers.{origin}."
        for norm in ("input_layernorm", "post_attention_layernorm"):
            lw[p + norm + ".weight"].fill_(scale)
            lw[p + norm + ".weight"][:h] = sw[q + norm + ".weight"] * scale
        # reads: the old block gets the small weights, new rows/columns keep their random init
        lw[p + "self_attn.q_proj.weight"][q_rows, :h] = sw[q + "self_attn.q_proj.weight"]
        for name in ("k_proj", "v_proj"):  # KV heads keep their index and width
            rows = sw[q + f"self_attn.{name}.weight"].shape[0]
            lw[p + f"self_attn.{name}.weight"][:rows, :h] = sw[q + f"self_attn.{name}.weight"]
        for name in ("gate_proj", "up_proj"):
            lw[p + f"mlp.{name}.weight"][: s.intermediate, :h] = sw[q + f"mlp.{name}.weight"]
        # writes: only the old block is non-zero
        o_w[:h, q_rows] = sw[q + "self_attn.o_proj.weight"]
        down_w[:h, : s.intermediate] = sw[q + "mlp.down_proj.weight"]
    return large
