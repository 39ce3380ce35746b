"""Trainable decoder in the Hugging Face layouts the engine loads: LlamaForCausalLM (policies) and
Qwen2ForProcessRewardModel (the PRM: Qwen2 backbone with q/k/v biases, head Linear-ReLU-Linear to 2
classes, no lm_head). Parameter names are the checkpoint's tensor names, so `state_dict()` is the
checkpoint. The math is the same as tools/fixtures/reference.py (RMSNorm x*rsqrt(mean(x^2)+eps)*w,
rotate-half RoPE over f32 angles, GQA head h reading KV head h // group, scale head_dim^-0.5, SiLU
gated MLP); `verify.py` checks every saved checkpoint against that independent forward.

Batches are [batch, time] token ids with per-row positions and a key-validity mask, so left-padded
prompts (sampling) and right-padded training rows run through the same code.
"""

import dataclasses
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import common  # noqa: F401  (puts tools/fixtures and tools/tokenizer on sys.path)
import hf_config  # tools/fixtures
import safetensors_io  # tools/fixtures


@dataclasses.dataclass
class Spec:
    arch: str  # "LlamaForCausalLM" or "Qwen2ForProcessRewardModel"
    vocab: int
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    eps: float = 1e-6
    rope_theta: float = 10000.0
    max_positions: int = 1024

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def qkv_bias(self) -> bool:
        return self.arch == "Qwen2ForProcessRewardModel"


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Attention(nn.Module):
    def __init__(self, s: Spec):
        super().__init__()
        self.s = s
        self.q_proj = nn.Linear(s.hidden, s.heads * s.head_dim, bias=s.qkv_bias)
        self.k_proj = nn.Linear(s.hidden, s.kv_heads * s.head_dim, bias=s.qkv_bias)
        self.v_proj = nn.Linear(s.hidden, s.kv_heads * s.head_dim, bias=s.qkv_bias)
        self.o_proj = nn.Linear(s.heads * s.head_dim, s.hidden, bias=False)

    def forward(self, x, cos, sin, mask, cache=None, at=0):
        """x [B, T, hidden]; cos/sin [B, T, head_dim]; mask [B, T, S] bool (True = may attend) over the
        S keys visible after this call. cache: (k, v) [B, kv_heads, S_max, head_dim] filled in place at
        [at, at + T); without a cache, S = T."""
        s = self.s
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, s.heads, s.head_dim).transpose(1, 2)  # [B, H, T, D]
        k = self.k_proj(x).view(b, t, s.kv_heads, s.head_dim).transpose(1, 2)  # [B, KV, T, D]
        v = self.v_proj(x).view(b, t, s.kv_heads, s.head_dim).transpose(1, 2)
        c, sn = cos.unsqueeze(1), sin.unsqueeze(1)
        q = q * c + rotate_half(q) * sn
        k = k * c + rotate_half(k) * sn
        if cache is not None:
            cache[0][:, :, at : at + t] = k
            cache[1][:, :, at : at + t] = v
            k, v = cache[0][:, :, : at + t], cache[1][:, :, : at + t]
        group = s.heads // s.kv_heads
        # grouped-query attention: query head h reads KV head h // group
        q = q.reshape(b, s.kv_heads, group * t, s.head_dim)
        scores = (q @ k.transpose(-1, -2)) * (s.head_dim**-0.5)  # [B, KV, group*T, S]
        scores = scores.view(b, s.kv_heads, group, t, -1).masked_fill(~mask[:, None, None], float("-inf"))
        probs = torch.softmax(scores, dim=-1).view(b, s.kv_heads, group * t, -1)
        out = (probs @ v).view(b, s.heads, t, s.head_dim).transpose(1, 2).reshape(b, t, s.heads * s.head_dim)
        return self.o_proj(out)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class MLP(nn.Module):
    def __init__(self, s: Spec):
        super().__init__()
        self.gate_proj = nn.Linear(s.hidden, s.intermediate, bias=False)
        self.up_proj = nn.Linear(s.hidden, s.intermediate, bias=False)
        self.down_proj = nn.Linear(s.intermediate, s.hidden, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, s: Spec):
        super().__init__()
        self.input_layernorm = RMSNorm(s.hidden, s.eps)
        self.self_attn = Attention(s)
        self.post_attention_layernorm = RMSNorm(s.hidden, s.eps)
        self.mlp = MLP(s)

    def forward(self, x, cos, sin, mask, cache=None, at=0):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask, cache, at)
        return x + self.mlp(self.post_attention_layernorm(x))


class Backbone(nn.Module):
    """`model.*` of the checkpoint: embeddings, decoder layers, final norm."""

    def __init__(self, s: Spec):
        super().__init__()
        self.s = s
        self.embed_tokens = nn.Embedding(s.vocab, s.hidden)
        self.layers = nn.ModuleList(Layer(s) for _ in range(s.layers))
        self.norm = RMSNorm(s.hidden, s.eps)
        exponent = torch.arange(0, s.head_dim, 2, dtype=torch.int64).float() / s.head_dim
        self.register_buffer("inv_freq", 1.0 / (s.rope_theta**exponent), persistent=False)

    def forward(self, ids, pos, mask, caches=None, at=0):
        """ids, pos [B, T] int64; mask [B, T, S] bool. Returns the final-normed hidden states [B, T, hidden]."""
        angles = pos.to(torch.float32).unsqueeze(-1) * self.inv_freq  # [B, T, head_dim / 2]
        emb = torch.cat((angles, angles), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        x = self.embed_tokens(ids)
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, mask, None if caches is None else caches[i], at)
        return self.norm(x)

    def new_caches(self, batch: int, length: int):
        s = self.s
        shape = (batch, s.kv_heads, length, s.head_dim)
        return [(torch.zeros(shape), torch.zeros(shape)) for _ in range(s.layers)]


def causal_mask(valid: torch.Tensor) -> torch.Tensor:
    """valid [B, T] bool (False = padding) -> [B, T, T]: query i sees key j iff j <= i and j is valid.
    A padding query still sees itself, so no row is all -inf (its output is never used)."""
    t = valid.shape[1]
    causal = torch.ones(t, t, dtype=torch.bool).tril()
    return (causal & valid[:, None, :]) | torch.eye(t, dtype=torch.bool)


class CausalLM(nn.Module):
    """LlamaForCausalLM with tied embeddings (the LM head is embed_tokens, so there is no lm_head)."""

    def __init__(self, s: Spec):
        super().__init__()
        self.s = s
        self.model = Backbone(s)

    def forward(self, ids, pos, mask, caches=None, at=0):
        return self.model(ids, pos, mask, caches, at) @ self.model.embed_tokens.weight.T


class ProcessRewardModel(nn.Module):
    """Qwen2ForProcessRewardModel: per-token 2-class logits; reward = softmax(logits)[1] at <extra_0>."""

    def __init__(self, s: Spec):
        super().__init__()
        self.s = s
        self.model = Backbone(s)
        self.score = nn.Sequential(nn.Linear(s.hidden, s.hidden), nn.ReLU(), nn.Linear(s.hidden, 2))

    def forward(self, ids, pos, mask):
        return self.score(self.model(ids, pos, mask))


def build(s: Spec) -> nn.Module:
    return CausalLM(s) if s.arch == "LlamaForCausalLM" else ProcessRewardModel(s)


def init_weights(module: nn.Module, seed: int) -> None:
    """N(0, 0.02) everywhere, residual output projections scaled by 1/sqrt(2 * layers) (GPT-2), norms 1,
    biases 0. Seeded on its own generator so the init does not depend on what ran before."""
    g = torch.Generator().manual_seed(seed)
    s = module.s
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("norm.weight"):
                p.fill_(1.0)
            elif name.endswith(".bias"):
                p.zero_()
            else:
                std = 0.02 / math.sqrt(2 * s.layers) if name.endswith(("o_proj.weight", "down_proj.weight")) else 0.02
                p.copy_(torch.randn(p.shape, generator=g) * std)


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# ---- Hugging Face files -------------------------------------------------------------------------


def config_json(s: Spec, bos: int, eos: int) -> dict:
    """config.json: LlamaForCausalLM through tools/fixtures/hf_config (as transformers 4.55.4 writes it);
    the PRM with the key set of Qwen/Qwen2.5-Math-PRM-7B's published config.json (transformers 4.37
    style: auto_map to its remote code, use_mrope, no layer_types), our sizes."""
    if s.arch == "LlamaForCausalLM":
        return hf_config.config_json(
            {
                "arch": s.arch, "dtype": "BF16", "vocab_size": s.vocab, "hidden": s.hidden, "heads": s.heads,
                "kv_heads": s.kv_heads, "layers": s.layers, "intermediate": s.intermediate, "eps": s.eps,
                "rope_theta": s.rope_theta, "rope_scaling": None, "max_position_embeddings": s.max_positions,
                "tied": True, "bos": bos, "eos": eos,
            }
        )
    doc = {
        "architectures": ["Qwen2ForProcessRewardModel"],
        "attention_dropout": 0.0,
        "auto_map": {
            "AutoConfig": "configuration_qwen2_rm.Qwen2RMConfig",
            "AutoModel": "modeling_qwen2_rm.Qwen2ForProcessRewardModel",
        },
        "bos_token_id": bos,
        "eos_token_id": eos,
        "hidden_act": "silu",
        "hidden_size": s.hidden,
        "initializer_range": 0.02,
        "intermediate_size": s.intermediate,
        "max_position_embeddings": s.max_positions,
        "max_window_layers": s.layers,
        "model_type": "qwen2",
        "num_attention_heads": s.heads,
        "num_hidden_layers": s.layers,
        "num_key_value_heads": s.kv_heads,
        "rms_norm_eps": s.eps,
        "rope_theta": float(s.rope_theta),
        "sliding_window": s.max_positions,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "transformers_version": hf_config.TRANSFORMERS_VERSION,
        "use_cache": True,
        "use_mrope": False,
        "use_sliding_window": False,
        "vocab_size": s.vocab,
    }
    return dict(sorted(doc.items()))


def spec_from_config(raw: dict) -> Spec:
    return Spec(
        arch=raw["architectures"][0], vocab=raw["vocab_size"], hidden=raw["hidden_size"], layers=raw["num_hidden_layers"],
        heads=raw["num_attention_heads"], kv_heads=raw["num_key_value_heads"], intermediate=raw["intermediate_size"],
        eps=raw["rms_norm_eps"], rope_theta=raw["rope_theta"], max_positions=raw["max_position_embeddings"],
    )


def bf16_round(t: torch.Tensor) -> torch.Tensor:
    """Round to bf16 (nearest even, as torch does) and widen back to f32."""
    return t.detach().to(torch.bfloat16).to(torch.float32)


def save_pretrained(module: nn.Module, out_dir: str, bos: int, eos: int, eos_list: list[int], pad: int, generation: dict | None = None) -> None:
    """config.json, generation_config.json and model.safetensors (bf16) into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    s = module.s
    hf_config.write_json(os.path.join(out_dir, "config.json"), config_json(s, bos, eos))
    gen = {"bos_token_id": bos, "eos_token_id": eos_list, "pad_token_id": pad, "transformers_version": hf_config.TRANSFORMERS_VERSION}
    if generation:
        gen.update(generation)
    else:
        gen["_from_model_config"] = True
    hf_config.write_json(os.path.join(out_dir, "generation_config.json"), dict(sorted(gen.items())))
    tensors = {}
    for name, p in module.state_dict().items():
        bits = p.detach().to(torch.float32).contiguous().to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
        tensors[name] = ("BF16", bits)
    safetensors_io.write(os.path.join(out_dir, "model.safetensors"), tensors)


def load_pretrained(model_dir: str) -> nn.Module:
    """A module holding exactly the checkpoint's weights (bf16 widened to f32)."""
    with open(os.path.join(model_dir, "config.json")) as f:
        s = spec_from_config(json.load(f))
    module = build(s)
    stored = safetensors_io.read(os.path.join(model_dir, "model.safetensors"))
    state = {k: torch.from_numpy(safetensors_io.to_f32(d, a).copy()) for k, (d, a) in stored.items()}
    module.load_state_dict(state, strict=True)
    return module.eval()


# ---- batching -----------------------------------------------------------------------------------


def right_padded(rows: list[list[int]], pad: int):
    """rows -> ids [B, T], pos [B, T], valid [B, T] (right padding; positions 0.. per row)."""
    t = max(len(r) for r in rows)
    ids = torch.full((len(rows), t), pad, dtype=torch.int64)
    valid = torch.zeros((len(rows), t), dtype=torch.bool)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        valid[i, : len(r)] = True
    pos = torch.arange(t).expand(len(rows), t)
    return ids, pos, valid
