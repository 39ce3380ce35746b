"""KV-cached batch decoding for the policy (greedy or temperature sampling), and per-level accuracy
measured with the package's exact checker. Used to evaluate the policies and to sample the PRM's
training data.
"""

import collections

import torch

import common
import model as M


@torch.no_grad()
def generate(lm: "M.CausalLM", prompts: list[list[int]], max_new: int, temperature: float, stop_ids: set[int],
             pad: int, generator: torch.Generator | None = None) -> list[list[int]]:
    """Continue every prompt until a stop id (kept in the output) or max_new tokens.

    Prompts are left-padded to one length; each row's positions start at 0 at its first real token and
    padded keys are masked, so a row decodes exactly as it would alone. Finished rows leave the batch.
    temperature 0 is greedy (ties to the lowest id, like torch.argmax).
    """
    b = len(prompts)
    width = max(len(p) for p in prompts)
    ids = torch.full((b, width), pad, dtype=torch.int64)
    key_valid = torch.zeros((b, width + max_new), dtype=torch.bool)  # [B, S_max] real (non-pad) keys
    lengths = torch.tensor([len(p) for p in prompts])
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p)
        key_valid[i, width - len(p) : width] = True
    key_valid[:, width:] = True
    pos = (torch.arange(width).expand(b, width) - (width - lengths)[:, None]).clamp(min=0)
    caches = lm.model.new_caches(b, width + max_new)
    causal = torch.ones(width, width, dtype=torch.bool).tril()
    mask = (causal & key_valid[:, None, :width]) | torch.eye(width, dtype=torch.bool)
    logits = lm(ids, pos, mask, caches, 0)[:, -1]
    out: list[list[int]] = [[] for _ in range(b)]
    rows = torch.arange(b)  # original index of each live row
    next_pos = lengths.clone()
    for step in range(max_new):
        if temperature == 0:
            tok = logits.argmax(-1)
        else:
            probs = torch.softmax(logits / temperature, dim=-1)
            tok = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        done = torch.zeros(len(rows), dtype=torch.bool)
        for j, (r, t) in enumerate(zip(rows.tolist(), tok.tolist())):
            out[r].append(t)
            if t in stop_ids:
                done[j] = True
        if step == max_new - 1:
            break
        if done.any():
            keep = (~done).nonzero().squeeze(1)
            if len(keep) == 0:
                break
            rows, tok, next_pos, key_valid = rows[keep], tok[keep], next_pos[keep], key_valid[keep]
            caches = [(k[keep], v[keep]) for k, v in caches]
        at = width + step
        mask = key_valid[:, None, : at + 1]
        logits = lm(tok[:, None], next_pos[:, None], mask, caches, at)[:, -1]
        next_pos = next_pos + 1
    return out


def completions(lm, tok, problems: list[str], temperature: float, seed: int, batch: int = 128, max_new: int = 200,
                system: bool = False) -> list[str]:
    """Solution texts (without the end token) for each problem, in order. Sorted by prompt length
    into batches so little padding is computed."""
    stop = {tok.token("<|im_end|>"), tok.token("<|endoftext|>")}
    pad = tok.token("<|endoftext|>")
    prompts = [tok.encode(common.policy_prompt(p, system)) for p in problems]
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    g = torch.Generator().manual_seed(seed)
    texts = [""] * len(prompts)
    for start in range(0, len(order), batch):
        idx = order[start : start + batch]
        outs = generate(lm, [prompts[i] for i in idx], max_new, temperature, stop, pad, g)
        for i, o in zip(idx, outs):
            texts[i] = tok.decode([t for t in o if t not in stop])
    return texts


def accuracy_by_level(records: list[dict], texts: list[str]) -> dict:
    """Per level: solved (every step right and the answer right) and answer-correct rates."""
    results = common.check([(r["structured"], t) for r, t in zip(records, texts)])
    solved, answer, total = collections.Counter(), collections.Counter(), collections.Counter()
    for r, res in zip(records, results):
        total[r["level"]] += 1
        solved[r["level"]] += res["solved"]
        answer[r["level"]] += res["answerCorrect"]
    return {
        str(level): {"n": total[level], "solved": round(solved[level] / total[level], 4), "answer": round(answer[level] / total[level], 4)}
        for level in sorted(total)
    }


def evaluate(lm, tok, records: list[dict], temperature: float, seed: int = 0, **kw) -> dict:
    lm.eval()
    texts = completions(lm, tok, [r["problem"] for r in records], temperature, seed, **kw)
    return accuracy_by_level(records, texts)


def test_records(per_level: int | None = None) -> list[dict]:
    rows = []
    for level in common.LEVELS:
        recs = common.test_records_of(level)
        rows.extend(recs[:per_level] if per_level else recs)
    return rows
