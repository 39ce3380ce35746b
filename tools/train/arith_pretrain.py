#!/usr/bin/python3
"""Give the PRM arithmetic of its own before it learns to judge solutions.

Usage: tools/train/py tools/train/arith_pretrain.py --init models/policy --out DIR [--steps 1500]

Why: the policy's failures on levels 3-5 are mostly plain arithmetic slips ("43 - 6 = 38"). A PRM
that starts from the policy inherits the same blind spots, so when a search offers it the right and
the wrong sibling it often prefers the policy's favourite. This stage trains the PRM (backbone and
head) on the equations of the training solutions alone, packed many to a row so that every token
is spent on arithmetic: each equation is shown right or with one slip in its result (the slips of
prm_negatives.digit_slip), the head judges it at its <extra_0>, and an auxiliary next-token loss on
the digits of right results teaches the backbone to compute them (dense supervision; the judgement
alone is one bit per equation). train_prm.py then continues from this checkpoint on whole solutions.

Writes a Qwen2ForProcessRewardModel checkpoint to --out and tools/train/logs/<name>.json with the
held-out verification accuracy per operation (equations of problems never trained on).
"""

import argparse
import collections
import os
import random
import time

import torch
import torch.nn.functional as F

import common
import model as M
from prm_negatives import OPS, STEP, digit_slip
from train_policy import lr_at, param_groups
from train_prm import prm_from, save_prm


def equations(records: list[dict]) -> list[tuple[int, str, int, int]]:
    """(a, op, b, c) of every equation step of the reference solutions, repeats kept (the task's mix)."""
    out = []
    for r in records:
        for step in common.split_steps(r["solution"]):
            m = STEP.match(step)
            if m:
                out.append((int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))))
    return out


class Encoder:
    """Token ids of one equation piece ("a op b = c<extra_0>\\n\\n") and where its result starts,
    cached: the same equations recur across epochs."""

    def __init__(self, tok):
        self.tok = tok
        self.sep = tok.token(common.PRM_STEP_TOKEN)
        self.cache: dict[tuple, tuple[list[int], int]] = {}

    def __call__(self, a: int, op: str, b: int, c: int) -> tuple[list[int], int]:
        key = (a, op, b, c)
        hit = self.cache.get(key)
        if hit is None:
            ids = self.tok.encode(f"{a} {op} {b} = {c}{common.PRM_STEP_TOKEN}\n\n")
            head = self.tok.encode(f"{a} {op} {b} =")
            # The result's first token follows the "=" prefix; when BPE merges across that boundary
            # the digits get no next-token targets (the judgement still trains).
            start = len(head) if ids[: len(head)] == head else len(ids)
            hit = self.cache[key] = (ids, start)
        return hit


def near_miss(n: int, rng: random.Random) -> int | None:
    """n with one of its last three digits changed (mostly by one), its length kept: the slips the
    policy makes when it loses a carry ("48 + 87 = 125"), which length changes do not teach."""
    s = str(n)
    i = len(s) - 1 - rng.choices(range(min(3, len(s))), weights=(4, 4, 2)[: min(3, len(s))])[0]
    d = int(s[i])
    new = (d + rng.choice((-1, 1))) % 10 if rng.random() < 0.6 else rng.choice([x for x in range(10) if x != d])
    if i == 0 and new == 0 and len(s) > 1:
        return None
    return int(s[:i] + str(new) + s[i + 1 :])


def draw(eq: tuple[int, str, int, int], rng: random.Random, near: float = 0.0) -> tuple[int, int]:
    """(shown result, label): the right result or a one-slip wrong one, half and half; a `near`
    fraction of the slips are near misses, the rest prm_negatives.digit_slip's mix."""
    a, op, b, c = eq
    if rng.random() < 0.5:
        slip = near_miss if rng.random() < near else digit_slip
        for _ in range(4):
            wrong = slip(c, rng)
            if wrong is not None and wrong != OPS[op](a, b):
                return wrong, 0
    return c, 1


def packed_batch(eqs, rows: int, length: int, enc: Encoder, rng: random.Random, pad: int, header: list[int],
                 near: float = 0.0):
    """[rows, length] ids: `header` (an assistant turn's opening, so the first positions look like a
    real PRM input's) then equations packed end to end; head targets at each <extra_0> (-100
    elsewhere) and next-token targets on the digits of right results."""
    ids = torch.full((rows, length), pad, dtype=torch.long)
    judge = torch.full((rows, length), -100, dtype=torch.long)
    lm = torch.full((rows, length), -100, dtype=torch.long)
    valid = torch.zeros((rows, length), dtype=torch.bool)
    for r in range(rows):
        ids[r, : len(header)] = torch.tensor(header)
        at = len(header)
        while True:
            eq = eqs[rng.randrange(len(eqs))]
            shown, label = draw(eq, rng, near)
            piece, start = enc(eq[0], eq[1], eq[2], shown)
            if at + len(piece) > length:
                break
            ids[r, at : at + len(piece)] = torch.tensor(piece)
            sep_at = at + piece.index(enc.sep)
            judge[r, sep_at] = label
            if label:
                for t in range(at + start - 1, sep_at - 1):
                    lm[r, t] = piece[t - at + 1]
            at += len(piece)
        valid[r, :at] = True
    pos = torch.arange(length).expand(rows, length)
    return ids, pos, M.causal_mask(valid), judge, lm


def split(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """(train, held out) problems: 2% of them (every level) held out, the same 2% in every run."""
    shuffled = records[:]
    random.Random(0).shuffle(shuffled)
    cut = len(shuffled) * 49 // 50
    return shuffled[:cut], shuffled[cut:]


def equation_loss(prm, ids, pos, mask, judge, lm, lm_weight: float):
    """(total, judgement, next-token) losses of one packed batch."""
    hidden = prm.model(ids, pos, mask)
    judge_loss = F.cross_entropy(prm.score(hidden).view(-1, 2), judge.view(-1), ignore_index=-100)
    lm_logits = hidden @ prm.model.embed_tokens.weight.T
    lm_loss = F.cross_entropy(lm_logits.view(-1, lm_logits.shape[-1]), lm.view(-1), ignore_index=-100)
    return judge_loss + lm_weight * lm_loss, judge_loss, lm_loss


def verification_accuracy(prm, eqs, enc: Encoder, pad: int, seed: int, header: list[int]) -> dict:
    """Per slip mix ("mixed": prm_negatives' slips, "near": near misses only) and operation: how often
    the head's judgement (reward >= 0.5) is right on held-out equations, half of them shown with a
    slip, each equation alone."""
    return {"mixed": judged(prm, eqs, enc, pad, seed, header, 0.0), "near": judged(prm, eqs, enc, pad, seed, header, 1.0)}


@torch.no_grad()
def judged(prm, eqs, enc: Encoder, pad: int, seed: int, header: list[int], near: float) -> dict:
    prm.eval()
    rng = random.Random(seed)
    items = []
    for eq in eqs:
        shown, label = draw(eq, rng, near)
        items.append((header + enc(eq[0], eq[1], eq[2], shown)[0], label, eq[1]))
    hits = collections.defaultdict(lambda: [0, 0])
    for s in range(0, len(items), 256):
        chunk = items[s : s + 256]
        ids, pos, valid = M.right_padded([x[0] for x in chunk], pad)
        probs = torch.softmax(prm(ids, pos, M.causal_mask(valid)), dim=-1)[..., 1]
        for j, (piece, label, op) in enumerate(chunk):
            ok = (probs[j, piece.index(enc.sep)] >= 0.5).item() == bool(label)
            for key in (op, "all"):
                hits[key][0] += ok
                hits[key][1] += 1
    prm.train()
    return {k: round(w / n, 4) for k, (w, n) in sorted(hits.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--init", default=os.path.join(common.MODELS, "policy"), help="policy or PRM to start from")
    parser.add_argument("--out", required=True)
    parser.add_argument("--name", default="prm-arith")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--lm-weight", type=float, default=1.0)
    parser.add_argument("--near-miss", type=float, default=0.0,
                        help="fraction of the wrong results that are near misses (length kept, one of the last three digits changed)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    common.seed_everything(args.seed)

    tok, prm, _ = prm_from(args.init, args.seed)
    log = common.RunLog(args.name, {**vars(args), "spec": vars(prm.s), "params": M.count_params(prm)})

    records = common.read_jsonl(os.path.join(common.WORK, "train.jsonl"))
    rng = random.Random(args.seed)
    train_problems, heldout_problems = split(records)
    train_eqs, heldout_eqs = equations(train_problems), equations(heldout_problems)
    heldout_eqs = heldout_eqs[:4000]
    log.event("data", train_equations=len(train_eqs), heldout_equations=len(heldout_eqs),
              by_op=dict(collections.Counter(e[1] for e in train_eqs)))

    pad = tok.token("<|endoftext|>")
    enc = Encoder(tok)
    header = tok.encode("<|im_start|>assistant\n")
    opt = torch.optim.AdamW(param_groups(prm, args.weight_decay), lr=args.lr, betas=(0.9, 0.98))
    log.event("before", verification=verification_accuracy(prm, heldout_eqs, enc, pad, args.seed, header))
    t0, seen, running = time.time(), 0, None
    prm.train()
    for step in range(args.steps):
        ids, pos, mask, judge, lm = packed_batch(train_eqs, args.rows, args.length, enc, rng, pad, header, args.near_miss)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        loss, judge_loss, lm_loss = equation_loss(prm, ids, pos, mask, judge, lm, args.lm_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(prm.parameters(), 1.0)
        opt.step()
        seen += int(ids.numel())
        running = judge_loss.item() if running is None else 0.98 * running + 0.02 * judge_loss.item()
        if step % 25 == 0 or step == args.steps - 1:
            log.loss(step, judge=round(judge_loss.item(), 4), lm=round(lm_loss.item(), 4), smooth_judge=round(running, 4),
                     grad_norm=round(float(gnorm), 3), lr=round(opt.param_groups[0]["lr"], 6), tokens=seen)
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step} judge {judge_loss.item():.4f} (smooth {running:.4f}) lm {lm_loss.item():.4f} "
                  f"{seen / (time.time() - t0):.0f} tok/s {time.time() - t0:.0f}s", flush=True)
        if step % 500 == 499:
            acc = verification_accuracy(prm, heldout_eqs, enc, pad, args.seed, header)
            log.event("heldout", step=step, verification=acc)
            print("heldout", acc, flush=True)
    log.set(train_seconds=round(time.time() - t0, 1), tokens_seen=seen, final_judge_smooth=round(running, 4))

    saved = save_prm(prm, tok, args.init, args.out)
    final = verification_accuracy(saved, heldout_eqs, enc, pad, args.seed, header)
    log.set(heldout_verification=final)
    print("heldout (saved bf16)", final)
    print("log:", log.write())


if __name__ == "__main__":
    main()
