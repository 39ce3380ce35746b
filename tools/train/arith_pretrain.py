#!/usr/bin/python3
"""Give the PRM arithmetic of its own, and the depth to check it, before it learns to judge solutions.

Usage: tools/train/py tools/train/arith_pretrain.py --init models/policy --add-layers 3 --out DIR [--steps 4000]

Why: the policy's failures on levels 3-5 are mostly arithmetic slips ("43 - 6 = 38"), and the steps
it samples next to a right one are near misses of it. A PRM that starts from the policy shares its
blind spots; and with only the policy's 4 layers the PRM spends its whole depth computing the result,
with none left to compare the computation with the digits shown and carry the verdict to <extra_0>
(measured: the judgement then trails the PRM's own next-token accuracy; with 3 more layers on top it
overtakes it). So this stage starts from the policy's layers, adds `--add-layers` new layers on top
(random reads, zero writes: the network's function is unchanged at first), and trains on equations
of fresh training problems packed end to end, so every token is arithmetic: each equation is shown
right or with one slip in its result (a `--near-miss` share of the slips are near misses, the rest
prm_negatives.digit_slip's mix), the head judges it at its <extra_0>, and a next-token loss on the
digits of right results and the <extra_0> after them (where the number ends) trains the backbone to
compute them. train_prm.py then continues from this checkpoint on whole solutions.

Writes the Qwen2ForProcessRewardModel checkpoint (bf16) to --out, plus --out/train-state.pt (the f32
weights, which a later stage continues from so that no bf16 rounding sits between stages; not
shipped), and tools/train/logs/<name>.json with held-out exact-result and near-miss judging accuracy
per operation on equations of the test problems (their problems are never trained on).
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
from prm_negatives import OPS, STEP, digit_slip, near_miss
from train_policy import lr_at, param_groups

STATE = "train-state.pt"


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
    """Token ids of one equation piece and where its result starts, cached. A piece is
    "a op b = c<extra_0>", as steps follow each other in a PRM input; `newline_after` appends "\\n\\n"
    (how the first stage of the shipped PRM was packed)."""

    def __init__(self, tok, newline_after: bool = False):
        self.tok = tok
        self.sep = tok.token(common.PRM_STEP_TOKEN)
        self.end = common.PRM_STEP_TOKEN + ("\n\n" if newline_after else "")
        self.cache: dict[tuple, tuple[list[int], int]] = {}

    def __call__(self, a: int, op: str, b: int, c: int) -> tuple[list[int], int]:
        key = (a, op, b, c)
        hit = self.cache.get(key)
        if hit is None:
            ids = self.tok.encode(f"{a} {op} {b} = {c}{self.end}")
            head = self.tok.encode(f"{a} {op} {b} =")
            # The result's first token follows the "=" prefix; when BPE merges across that boundary
            # the digits get no next-token targets (the judgement still trains).
            start = len(head) if ids[: len(head)] == head else len(ids)
            hit = self.cache[key] = (ids, start)
        return hit


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
    elsewhere) and next-token targets on the digits of right results and the <extra_0> after them."""
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
                for t in range(at + start - 1, sep_at):
                    lm[r, t] = piece[t - at + 1]
            at += len(piece)
        valid[r, :at] = True
    pos = torch.arange(length).expand(rows, length)
    return ids, pos, M.causal_mask(valid), judge, lm


def equation_loss(prm, ids, pos, mask, judge, lm, lm_weight: float):
    """(total, judgement, next-token) losses of one packed batch."""
    hidden = prm.model(ids, pos, mask)
    judge_loss = F.cross_entropy(prm.score(hidden).view(-1, 2), judge.view(-1), ignore_index=-100)
    lm_logits = hidden @ prm.model.embed_tokens.weight.T
    lm_loss = F.cross_entropy(lm_logits.view(-1, lm_logits.shape[-1]), lm.view(-1), ignore_index=-100)
    return judge_loss + lm_weight * lm_loss, judge_loss, lm_loss


def heldout_equations() -> list[tuple[int, str, int, int]]:
    """3000 equations of the test problems, the same ones in every run."""
    records = [r for level in common.LEVELS for r in common.test_records_of(level)]
    eqs = equations(records)
    random.Random(0).shuffle(eqs)
    return eqs[:3000]


@torch.no_grad()
def heldout_accuracy(prm, eqs, enc: Encoder, pad: int, header: list[int]) -> dict:
    """Per operation: `exact`, the share of right results the backbone would write itself (argmax next
    token at every digit and at the <extra_0> after them), and `near_judge`, how often the head's
    judgement (reward >= 0.5) is right on each equation shown right and shown with a near miss."""
    prm.eval()
    rng = random.Random(5)
    items = []
    for eq in eqs:
        wrong = None
        for _ in range(8):
            wrong = near_miss(eq[3], rng)
            if wrong is not None and wrong != eq[3]:
                break
        items += [(eq, eq[3], 1), (eq, wrong, 0)]
    exact = collections.defaultdict(lambda: [0, 0])
    judged = collections.defaultdict(lambda: [0, 0])
    for s in range(0, len(items), 256):
        chunk = items[s : s + 256]
        pieces = [enc(e[0], e[1], e[2], shown) for e, shown, _ in chunk]
        ids, pos, valid = M.right_padded([header + p for p, _ in pieces], pad)
        hidden = prm.model(ids, pos, M.causal_mask(valid))
        reward = torch.softmax(prm.score(hidden), -1)[..., 1]
        predicted = (hidden @ prm.model.embed_tokens.weight.T).argmax(-1)
        for j, ((eq, _, label), (piece, start)) in enumerate(zip(chunk, pieces)):
            sep_at = len(header) + piece.index(enc.sep)
            for key in (eq[1], "all"):
                judged[key][0] += (reward[j, sep_at] >= 0.5).item() == bool(label)
                judged[key][1] += 1
            if label:
                right = all(predicted[j, t - 1].item() == ids[j, t].item() for t in range(len(header) + start, sep_at + 1))
                for key in (eq[1], "all"):
                    exact[key][0] += right
                    exact[key][1] += 1
    prm.train()
    rate = lambda d: {k: round(w / n, 4) for k, (w, n) in sorted(d.items())}
    return {"exact": rate(exact), "near_judge": rate(judged)}


def with_layers_on_top(prm, extra: int, seed: int):
    """`prm` with `extra` new layers after its own: random reads, zero writes (o_proj, down_proj), so
    the output is unchanged until they learn."""
    grown = M.build(M.Spec(**{**vars(prm.s), "layers": prm.s.layers + extra}))
    M.init_weights(grown, seed)
    state = grown.state_dict()
    state.update(prm.state_dict())
    for i in range(prm.s.layers, grown.s.layers):
        state[f"model.layers.{i}.self_attn.o_proj.weight"].zero_()
        state[f"model.layers.{i}.mlp.down_proj.weight"].zero_()
    grown.load_state_dict(state)
    return grown


def load_training_prm(init: str, seed: int):
    """(tokenizer, PRM) to train from `init`: a policy (the backbone; biases and head start fresh,
    see train_prm.prm_from) or a PRM, taken from its f32 train-state.pt when one is there."""
    from train_prm import prm_from

    tok, prm, _ = prm_from(init, seed)
    state_file = os.path.join(init, STATE)
    if os.path.exists(state_file):
        prm.load_state_dict(torch.load(state_file))
    return tok, prm


def save_with_state(prm, tok, out: str):
    """The bf16 checkpoint (reloaded, as train_prm.save_prm does) plus the f32 weights beside it."""
    from train_prm import save_prm

    saved = save_prm(prm, tok, os.path.join(common.MODELS, "policy"), out)
    torch.save(prm.state_dict(), os.path.join(out, STATE))
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--init", default=os.path.join(common.MODELS, "policy"), help="policy or PRM to start from")
    parser.add_argument("--add-layers", type=int, default=0, help="new layers on top of --init's")
    parser.add_argument("--problems", default=os.path.join(common.WORK, "big", "train.jsonl"),
                        help="training problems whose reference equations are drawn (README: 600k from gen_data.mjs)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--name", default="prm-arith")
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--lm-weight", type=float, default=1.0)
    parser.add_argument("--near-miss", type=float, default=0.7,
                        help="fraction of the wrong results that are near misses (length kept, one of the last three digits changed)")
    parser.add_argument("--newline-after", action="store_true", help='pack pieces as "...<extra_0>\\n\\n" (first stage of the shipped PRM)')
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--eval-every", type=int, default=500)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    tok, prm = load_training_prm(args.init, args.seed)
    if args.add_layers:
        prm = with_layers_on_top(prm, args.add_layers, args.seed + 1)
    log = common.RunLog(args.name, {**vars(args), "spec": vars(prm.s), "params": M.count_params(prm)})
    train_eqs, heldout = equations(common.read_jsonl(args.problems)), heldout_equations()
    log.event("data", train_equations=len(train_eqs), heldout_equations=len(heldout),
              by_op=dict(collections.Counter(e[1] for e in train_eqs)))

    pad = tok.token("<|endoftext|>")
    enc = Encoder(tok, args.newline_after)
    header = tok.encode("<|im_start|>assistant\n")
    rng = random.Random(args.seed)
    opt = torch.optim.AdamW(param_groups(prm, args.weight_decay), lr=args.lr, betas=(0.9, 0.98))
    t0, seen = time.time(), 0
    prm.train()
    for step in range(args.steps):
        ids, pos, mask, judge, lm = packed_batch(train_eqs, args.rows, args.length, enc, rng, pad, header, args.near_miss)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        loss, judge_loss, lm_loss = equation_loss(prm, ids, pos, mask, judge, lm, args.lm_weight)
        opt.zero_grad()
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(prm.parameters(), 1.0)
        opt.step()
        seen += int(ids.numel())
        if step % 25 == 0 or step == args.steps - 1:
            log.loss(step, judge=round(judge_loss.item(), 4), lm=round(lm_loss.item(), 4),
                     grad_norm=round(float(gnorm), 3), lr=round(opt.param_groups[0]["lr"], 6), tokens=seen)
        if step % 100 == 0:
            print(f"step {step} judge {judge_loss.item():.4f} lm {lm_loss.item():.4f} "
                  f"{seen / (time.time() - t0):.0f} tok/s {time.time() - t0:.0f}s", flush=True)
        if step % args.eval_every == args.eval_every - 1 or step == args.steps - 1:
            log.event("heldout", step=step, **heldout_accuracy(prm, heldout, enc, pad, header))
    log.set(train_seconds=round(time.time() - t0, 1), tokens_seen=seen)
    saved = save_with_state(prm, tok, args.out)
    log.set(heldout_saved_bf16=heldout_accuracy(saved, heldout, enc, pad, header))
    print("log:", log.write())


if __name__ == "__main__":
    main()
