#!/usr/bin/python3
"""Train a policy with Direct Preference Optimization on a pairs file from `thinktree tpo pairs`.

Usage (see tools/train/README.md, "Thought Preference Optimization"):
    tools/train/py tools/train/dpo.py --policy models/policy --pairs pairs.jsonl --out DIR --name tpo-iter1

The loss is the DPO paper's (Rafailov et al. 2023, eq. 7), for a pair (x, y_w, y_l):

    L = -log sigmoid( beta * [ (log pi(y_w|x) - log ref(y_w|x)) - (log pi(y_l|x) - log ref(y_l|x)) ] )

averaged over the batch, where log pi(y|x) is the sum of the completion tokens' log-probabilities
under the trained policy and ref is a frozen copy of the starting policy (--reference, default
--policy). `--nll-weight W` (default 0: the DPO paper's loss alone) adds W times the chosen side's
negative log-likelihood per token, -log pi(y_w|x) / |y_w|, as Iterative Reasoning Preference
Optimization (Pang et al. 2024) does to keep DPO from lowering the likelihood of the chosen solutions. The pairs file is TRL's conversational preference layout: `prompt` [user message],
`chosen` / `rejected` [assistant message]. As TRL does, the prompt is rendered with the chat template
and tokenized apart from the completion; the completion is the assistant content followed by
<|im_end|>, which is what the policy was trained to write and stop on (tools/train/train_policy.py).
The result is saved as a Hugging Face checkpoint (bf16) with the policy's tokenizer and generation
config; settings, losses and events go to tools/train/logs/<name>.json.

`--check-loss` reads {"beta", "pi_chosen", "pi_rejected", "ref_chosen", "ref_rejected"} (lists), and
optionally "nll_weight" and "chosen_lengths", as JSON on stdin and prints the losses, and the per-sequence log-probabilities of a stub model (for the tests).
"""

import argparse
import json
import math
import os
import random
import shutil
import sys
import time

import torch
import torch.nn.functional as F

import common
import model as M
import tokenizer as T


def dpo_loss(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta: float):
    """Per-pair DPO losses [B] and the implicit rewards beta * (log pi - log ref) of both sides."""
    chosen_reward = beta * (pi_chosen - ref_chosen)
    rejected_reward = beta * (pi_rejected - ref_rejected)
    return -F.logsigmoid(chosen_reward - rejected_reward), chosen_reward, rejected_reward


def total_loss(dpo_losses, pi_chosen, chosen_lengths, nll_weight: float):
    """The batch loss: mean DPO loss, plus nll_weight times the chosen side's mean per-token NLL."""
    loss = dpo_losses.mean()
    return loss + nll_weight * (-(pi_chosen / chosen_lengths)).mean() if nll_weight > 0 else loss


def completion_lengths(rows: list[list[int]], firsts: list[int]) -> torch.Tensor:
    """[B] tokens each row's completion has (what sequence_logps sums over)."""
    return torch.tensor([len(r) - f for r, f in zip(rows, firsts)], dtype=torch.float32)


def sequence_logps(lm, rows: list[list[int]], firsts: list[int], pad: int) -> torch.Tensor:
    """[B] sum over tokens first..end of each row of log p(token | tokens before it)."""
    ids, pos, valid = M.right_padded(rows, pad)
    logits = lm(ids, pos, M.causal_mask(valid))
    logps = torch.log_softmax(logits[:, :-1].float(), dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    mask = torch.zeros_like(logps, dtype=torch.bool)
    for j, (r, first) in enumerate(zip(rows, firsts)):
        # position p predicts token p + 1: tokens first .. len-1 are predicted at positions first-1 .. len-2
        mask[j, first - 1 : len(r) - 1] = True
    return (logps * mask).sum(-1)


def tokenize_pair(tok, pair: dict, where: str) -> tuple[list[int], list[int], list[int]]:
    """(prompt ids, chosen completion ids, rejected completion ids)."""
    for key in ("prompt", "chosen", "rejected"):
        v = pair.get(key)
        role = "user" if key == "prompt" else "assistant"
        if not (isinstance(v, list) and len(v) == 1 and isinstance(v[0], dict) and v[0].get("role") == role
                and isinstance(v[0].get("content"), str)):
            raise ValueError(f"{where}: `{key}` must be [{{\"role\": \"{role}\", \"content\": str}}], got {json.dumps(v)[:80]}")
    end = tok.token("<|im_end|>")
    prompt = tok.encode(common.chatml([("user", pair["prompt"][0]["content"])], generation_prompt=True))
    chosen = tok.encode(pair["chosen"][0]["content"]) + [end]
    rejected = tok.encode(pair["rejected"][0]["content"]) + [end]
    return prompt, chosen, rejected


def check_loss() -> None:
    doc = json.load(sys.stdin)
    t = {k: torch.tensor(doc[k], dtype=torch.float64) for k in ("pi_chosen", "pi_rejected", "ref_chosen", "ref_rejected")}
    losses, cr, rr = dpo_loss(t["pi_chosen"], t["pi_rejected"], t["ref_chosen"], t["ref_rejected"], doc["beta"])

    class Stub(torch.nn.Module):
        """Logits [ln 3, 0, 0, 0] at every position: p(token 0) = 1/2, p(others) = 1/6."""

        def forward(self, ids, pos, mask):
            logits = torch.zeros(ids.shape[0], ids.shape[1], 4)
            logits[..., 0] = math.log(3.0)
            return logits

    total = float(total_loss(losses, t["pi_chosen"], torch.tensor(doc.get("chosen_lengths", [1.0] * len(losses)), dtype=torch.float64),
                             doc.get("nll_weight", 0.0)))
    rows = doc.get("stub_rows", [])
    stub = sequence_logps(Stub(), rows, doc.get("stub_firsts", []), 3).tolist() if rows else []
    print(json.dumps({"losses": losses.tolist(), "loss": float(losses.mean()), "total": total, "chosen_rewards": cr.tolist(),
                      "rejected_rewards": rr.tolist(), "stub_logps": stub}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check-loss", action="store_true", help="read a tiny batch on stdin, print the loss (tests)")
    parser.add_argument("--policy", help="starting policy (Hugging Face directory)")
    parser.add_argument("--reference", help="frozen reference model (default: --policy)")
    parser.add_argument("--pairs", help="pairs file(s) from `thinktree tpo pairs`, comma-separated")
    parser.add_argument("--out", help="output checkpoint directory")
    parser.add_argument("--name", help="run name (log: tools/train/logs/<name>.json)")
    parser.add_argument("--beta", type=float, default=0.1)
    parser.add_argument("--nll-weight", type=float, default=0.0, help="weight of the chosen side's per-token NLL (IRPO); 0 = DPO alone")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-pairs", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=5, help="linear warmup steps, then constant")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.check_loss:
        check_loss()
        return
    for flag in ("policy", "pairs", "out", "name"):
        if getattr(args, flag) is None:
            parser.error(f"--{flag.replace('_', '-')} is required")
    if not args.beta > 0:
        parser.error(f"--beta must be > 0, got {args.beta}")
    if not args.nll_weight >= 0:
        parser.error(f"--nll-weight must be >= 0, got {args.nll_weight}")
    torch.set_num_threads(args.threads)
    common.seed_everything(args.seed)

    tok = T.load(args.policy)
    pad = tok.token("<|endoftext|>")
    policy = M.load_pretrained(args.policy)
    reference = M.load_pretrained(args.reference or args.policy)
    for p in reference.parameters():
        p.requires_grad_(False)
    pairs = []
    for path in args.pairs.split(","):
        for i, row in enumerate(common.read_jsonl(path)):
            pairs.append(tokenize_pair(tok, row, f"{path}:{i + 1}"))
    if not pairs:
        raise SystemExit(f"{args.pairs}: no pairs")
    log = common.RunLog(args.name, {**vars(args), "pairs_count": len(pairs)})
    log.event("start", pairs=len(pairs), params=M.count_params(policy))

    # The reference's log-probabilities never change: computed once, in eval mode.
    def both_sides(lm, batch):
        rows = [p + c for p, c, _ in batch] + [p + r for p, _, r in batch]
        firsts = [len(p) for p, _, _ in batch] * 2
        logps = sequence_logps(lm, rows, firsts, pad)
        return logps[: len(batch)], logps[len(batch):]

    with torch.no_grad():
        ref_logps = [both_sides(reference, pairs[i : i + args.batch_pairs]) for i in range(0, len(pairs), args.batch_pairs)]
    ref_chosen = torch.cat([c for c, _ in ref_logps])
    ref_rejected = torch.cat([r for _, r in ref_logps])
    chosen_lengths = completion_lengths([p + c for p, c, _ in pairs], [len(p) for p, _, _ in pairs])

    opt = torch.optim.AdamW(policy.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.0)
    rng = random.Random(args.seed)
    policy.train()
    step, t0 = 0, time.time()
    for epoch in range(args.epochs):
        order = list(range(len(pairs)))
        rng.shuffle(order)
        for start in range(0, len(order), args.batch_pairs):
            idx = order[start : start + args.batch_pairs]
            pi_c, pi_r = both_sides(policy, [pairs[i] for i in idx])
            losses, cr, rr = dpo_loss(pi_c, pi_r, ref_chosen[idx], ref_rejected[idx], args.beta)
            nll = -(pi_c / chosen_lengths[idx]).mean()
            loss = total_loss(losses, pi_c, chosen_lengths[idx], args.nll_weight)
            for g in opt.param_groups:
                g["lr"] = args.lr * min(1.0, (step + 1) / max(1, args.warmup))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
            opt.step()
            log.loss(step, epoch=epoch, loss=round(loss.item(), 5), dpo_loss=round(losses.mean().item(), 5), chosen_nll_per_token=round(nll.item(), 5),
                     reward_accuracy=round(float((cr > rr).float().mean()), 4),
                     margin=round(float((cr - rr).mean()), 5), chosen_logp=round(float(pi_c.mean()), 4),
                     rejected_logp=round(float(pi_r.mean()), 4), grad_norm=round(float(gnorm), 4))
            if step % 10 == 0:
                print(f"step {step} epoch {epoch} loss {loss.item():.4f} margin {float((cr - rr).mean()):.4f} "
                      f"acc {float((cr > rr).float().mean()):.2f} {time.time() - t0:.0f}s", flush=True)
            step += 1
    log.set(train_seconds=round(time.time() - t0, 1), steps=step)

    with open(os.path.join(args.policy, "generation_config.json")) as f:
        generation = {k: v for k, v in json.load(f).items() if k not in ("bos_token_id", "eos_token_id", "pad_token_id", "transformers_version")}
    M.save_pretrained(policy.eval(), args.out, bos=pad, eos=tok.token("<|im_end|>"), eos_list=[tok.token("<|im_end|>"), pad],
                      pad=pad, generation=generation)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(args.policy, f), os.path.join(args.out, f))
    # What ships is bf16: the final loss on the saved weights, over every pair.
    saved = M.load_pretrained(args.out)
    with torch.no_grad():
        sides = [both_sides(saved, pairs[i : i + args.batch_pairs]) for i in range(0, len(pairs), args.batch_pairs)]
        pi_c = torch.cat([c for c, _ in sides])
        pi_r = torch.cat([r for _, r in sides])
        losses, cr, rr = dpo_loss(pi_c, pi_r, ref_chosen, ref_rejected, args.beta)
    log.event("saved", out=args.out, loss=round(float(losses.mean()), 5), reward_accuracy=round(float((cr > rr).float().mean()), 4),
              margin=round(float((cr - rr).mean()), 5), start_loss=round(math.log(2), 5))
    print(f"wrote {args.out} and {log.write()}")


if __name__ == "__main__":
    main()
