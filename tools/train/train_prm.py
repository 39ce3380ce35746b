#!/usr/bin/python3
"""Train the PRM (Qwen2ForProcessRewardModel) on the labelled policy samples from prm_data.py.

Usage: tools/train/py tools/train/train_prm.py [--init models/policy] [--out models/prm]

Input format (Qwen2.5-Math-PRM model card): ChatML with the system prompt
"Please reason step by step, and put your final answer within \\boxed{}.", user = problem, assistant =
the steps (the "\n\n"-split pieces, trimmed) each followed by <extra_0>. Loss: cross-entropy of the
2-class head at every <extra_0>, classes weighted to balance good and bad steps. The backbone starts
from the small policy (same tokenizer and sizes; the Qwen2 q/k/v biases start at 0, the head is new),
as Qwen's PRM starts from its instruct model. After training the bf16 checkpoint is reloaded and
evaluated on held-out samples (calibration problems): step accuracy at 0.5, AUC, per level, and
best-of-k selection by PRM score.
"""

import argparse
import collections
import os
import random
import shutil
import time

import torch
import torch.nn.functional as F

import common
import model as M
import tokenizer as T
from train_policy import batches, lr_at, param_groups


def encode_rows(tok, rows: list[dict]) -> list[tuple[list[int], list[int], list[int], dict]]:
    """(ids, separator positions, labels, row) per row; rows whose steps contain the separator are dropped."""
    sep = tok.token(common.PRM_STEP_TOKEN)
    out = []
    for r in rows:
        ids = tok.encode(common.prm_text(r["problem"], r["steps"]))
        at = [i for i, t in enumerate(ids) if t == sep]
        if len(at) == len(r["labels"]):
            out.append((ids, at, r["labels"], r))
    return out


def collate(data, idx, pad: int):
    ids, pos, valid = M.right_padded([data[i][0] for i in idx], pad)
    targets = torch.full_like(ids, -100)
    for j, i in enumerate(idx):
        _, at, labels, _ = data[i]
        targets[j, at] = torch.tensor(labels)
    return ids, pos, M.causal_mask(valid), targets


def lm_targets(data, idx, ids, sep: int, newline: int) -> torch.Tensor:
    """Next-token targets over the steps of rows whose every step is right (the policy's own objective,
    read through the tied embeddings), -100 elsewhere: at the separators, in the prompt, in padding and
    in rows holding a wrong step (the PRM should not learn to write slips). The assistant content starts
    right after the header's newline (`newline`, the id of "\\n"); no step contains one."""
    out = torch.full_like(ids, -100)
    for j, i in enumerate(idx):
        row_ids, at, labels, _ = data[i]
        if not all(labels):
            continue
        first = at[0]
        while first > 0 and row_ids[first - 1] != newline:
            first -= 1
        for t in range(first - 1, at[-1]):
            if row_ids[t + 1] != sep and row_ids[t] != sep:
                out[j, t] = row_ids[t + 1]
    return out


@torch.no_grad()
def rewards(prm, data, pad: int, batch: int = 64) -> list[list[float]]:
    """softmax(head)[1] at each separator, per row."""
    prm.eval()
    out = [None] * len(data)
    order = sorted(range(len(data)), key=lambda i: len(data[i][0]))
    for s in range(0, len(order), batch):
        idx = order[s : s + batch]
        ids, pos, mask, _ = collate(data, idx, pad)
        probs = torch.softmax(prm(ids, pos, mask), dim=-1)[..., 1]
        for j, i in enumerate(idx):
            out[i] = probs[j, data[i][1]].tolist()
    return out


def auc(scores: list[float], labels: list[int]) -> float:
    """P(score of a random good step > score of a random bad step), ties counted half."""
    pairs = sorted(zip(scores, labels))
    n_pos = sum(labels)
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None  # undefined with one class
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        avg_rank = (i + j + 1) / 2  # 1-based ranks i+1 .. j
        rank_sum += avg_rank * sum(l for _, l in pairs[i:j])
        i = j
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def evaluate(prm, tok, rows: list[dict], pad: int) -> dict:
    data = encode_rows(tok, rows)
    rows = [d[3] for d in data]
    scores = rewards(prm, data, pad)
    flat_s, flat_l = [], []
    per_level = collections.defaultdict(lambda: [[], []])
    for r, (_, _, labels, _), sc in zip(rows, data, scores):
        flat_s += sc
        flat_l += labels
        per_level[r["level"]][0].extend(sc)
        per_level[r["level"]][1].extend(labels)

    def summary(s, l):
        correct = sum((x >= 0.5) == bool(y) for x, y in zip(s, l))
        return {"steps": len(l), "good": sum(l), "accuracy": round(correct / len(l), 4), "auc": a if (a := auc(s, l)) is None else round(a, 4)}

    result = {"all": summary(flat_s, flat_l), "by_level": {str(k): summary(*v) for k, v in sorted(per_level.items())}}
    # Best-of-k: per problem pick the sample with the highest last-step (or lowest-step) reward.
    groups = collections.defaultdict(list)
    for r, sc in zip(rows, scores):
        groups[r["problem"]].append((r, sc))
    pick_last = pick_min = mean = oracle = 0.0
    for items in groups.values():
        pick_last += max(items, key=lambda it: it[1][-1])[0]["solved"]
        pick_min += max(items, key=lambda it: min(it[1]))[0]["solved"]
        mean += sum(it[0]["solved"] for it in items) / len(items)
        oracle += any(it[0]["solved"] for it in items)
    n = len(groups)
    result["best_of_k"] = {"problems": n, "note": "distinct samples per problem (duplicates removed), solved rate",
                           "prm_last": round(pick_last / n, 4), "prm_min": round(pick_min / n, 4),
                           "random_sample": round(mean / n, 4), "oracle": round(oracle / n, 4)}
    return result


def sibling_accuracy(prm, tok, rows: list[dict], pad: int) -> dict:
    """On prm_negatives.py pairs (same prefix, right vs wrong last step): how often the right step
    scores higher, the choice a beam search makes between siblings. Ties count half."""
    data = encode_rows(tok, rows)
    scores = rewards(prm, data, pad)
    twins = collections.defaultdict(dict)
    for (_, _, labels, r), sc in zip(data, scores):
        twins[(r["problem"], tuple(r["steps"][:-1]))][labels[-1]] = (sc[-1], r["level"])
    per_level = collections.defaultdict(lambda: [0.0, 0])
    for pair in twins.values():
        if 0 in pair and 1 in pair:
            (good, level), (bad, _) = pair[1], pair[0]
            for key in (level, "all"):
                per_level[key][0] += 1.0 if good > bad else 0.5 if good == bad else 0.0
                per_level[key][1] += 1
    return {str(k): {"pairs": n, "right_above_wrong": round(w / n, 4)} for k, (w, n) in per_level.items()}


def prm_from(init: str, seed: int):
    """(tokenizer, PRM, names of tensors that start fresh) for a PRM built on `init`: a policy gives the
    backbone (the q/k/v biases and the head start fresh), a PRM gives everything."""
    tok = T.load(init)
    source = M.load_pretrained(init)
    prm = M.build(M.Spec(**{**vars(source.s), "arch": "Qwen2ForProcessRewardModel"}))
    M.init_weights(prm, seed)
    missing, unexpected = prm.load_state_dict(source.state_dict(), strict=False)
    assert not unexpected and all(k.endswith(".bias") or k.startswith("score.") for k in missing), (missing, unexpected)
    return tok, prm, missing


def save_prm(prm, tok, init: str, out: str):
    """Writes the PRM (bf16 safetensors, config.json) with `init`'s tokenizer files; returns it reloaded
    from disk, so what is measured next is what was saved."""
    pad = tok.token("<|endoftext|>")
    M.save_pretrained(prm, out, bos=pad, eos=tok.token("<|im_end|>"), eos_list=[tok.token("<|im_end|>"), pad], pad=pad)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(init, f), os.path.join(out, f))
    return M.load_pretrained(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--init", default=os.path.join(common.MODELS, "policy"),
                        help="a policy (backbone only; the head starts fresh) or a PRM to continue training")
    parser.add_argument("--data", default="prm-train.jsonl",
                        help="comma-separated training files under tools/train/work (prm_data.py, prm_negatives.py)")
    parser.add_argument("--out", default=os.path.join(common.MODELS, "prm"))
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-tokens", type=int, default=2048)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--name", default="prm", help="log name")
    parser.add_argument("--lm-weight", type=float, default=0.0,
                        help="weight of an auxiliary next-token loss on right solutions (keeps the policy's arithmetic features)")
    parser.add_argument("--backbone-lr-scale", type=float, default=1.0, help="backbone learning rate relative to the head's")
    parser.add_argument("--equation-every", type=int, default=0,
                        help="every K-th step trains on packed equations instead (arith_pretrain.py's objective), "
                             "so the arithmetic learnt there is kept while the PRM learns whole solutions; 0: never")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    common.seed_everything(args.seed)

    tok, prm, missing = prm_from(args.init, args.seed)
    spec = prm.s
    log = common.RunLog(args.name, {**vars(args), "spec": vars(spec), "params": M.count_params(prm),
                                "initialised_from": args.init, "new_tensors": sorted(missing)[:6] + ["..."]})

    rows = [r for name in args.data.split(",") for r in common.read_jsonl(os.path.join(common.WORK, name))]
    data = encode_rows(tok, rows)
    n_good = sum(sum(d[2]) for d in data)
    n_all = sum(len(d[2]) for d in data)
    weight = torch.tensor([n_all / (2 * (n_all - n_good)), n_all / (2 * n_good)])
    log.event("data", rows=len(data), steps=n_all, good=n_good, bad=n_all - n_good, class_weight=weight.tolist(),
              tokens=sum(len(d[0]) for d in data))

    pad = tok.token("<|endoftext|>")
    rng = random.Random(args.seed)
    newline = tok.encode("\n")[0]
    sep_id = tok.token(common.PRM_STEP_TOKEN)
    groups = param_groups(prm, args.weight_decay)
    for g in groups:
        g["scale"] = 1.0
    if args.backbone_lr_scale != 1.0:
        head = {id(p) for p in prm.score.parameters()}
        split = []
        for g in groups:
            for is_head in (False, True):
                ps = [p for p in g["params"] if (id(p) in head) == is_head]
                if ps:
                    split.append({**g, "params": ps, "scale": 1.0 if is_head else args.backbone_lr_scale})
        groups = split
    opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.98))
    queue, epoch, seen, running = [], 0, 0, None
    t0 = time.time()
    prm.train()
    if args.equation_every > 0:
        import arith_pretrain as A
        records = common.read_jsonl(os.path.join(common.WORK, "train.jsonl"))
        train_eqs = A.equations(A.split(records)[0])
        enc, header = A.Encoder(tok), tok.encode("<|im_start|>assistant\n")
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup) * g["scale"]
        on_equations = args.equation_every > 0 and step % args.equation_every == args.equation_every - 1
        if on_equations:
            ids, pos, mask, judge, lm = A.packed_batch(train_eqs, 16, 256, enc, rng, pad, header)
            loss = A.equation_loss(prm, ids, pos, mask, judge, lm, 1.0)[0]
        else:
            if not queue:
                queue = batches(data, args.batch_tokens, rng)
                epoch += 1
            last_batch = queue.pop()
            ids, pos, mask, targets = collate(data, last_batch, pad)
            hidden = prm.model(ids, pos, mask)
            logits = prm.score(hidden)
            loss = F.cross_entropy(logits.view(-1, 2), targets.view(-1), weight=weight, ignore_index=-100)
            if args.lm_weight > 0:
                lm = lm_targets(data, last_batch, ids, sep_id, newline)
                if (lm >= 0).any():
                    lm_logits = hidden @ prm.model.embed_tokens.weight.T
                    loss = loss + args.lm_weight * F.cross_entropy(lm_logits.view(-1, lm_logits.shape[-1]), lm.view(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(prm.parameters(), 1.0)
        opt.step()
        if on_equations:
            continue  # the log and the token count follow the whole-solution batches
        seen += int(ids.numel())
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 25 == 0 or step == args.steps - 1:
            log.loss(step, loss=round(loss.item(), 4), smooth=round(running, 4), grad_norm=round(float(gnorm), 3),
                     lr=round(opt.param_groups[0]["lr"], 6), epoch=epoch, tokens=seen)
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step} loss {loss.item():.4f} smooth {running:.4f} epoch {epoch} "
                  f"{seen / (time.time() - t0):.0f} tok/s {time.time() - t0:.0f}s", flush=True)
    train_seconds = time.time() - t0
    log.set(train_seconds=round(train_seconds, 1), tokens_seen=seen, epochs=epoch, final_loss_smooth=round(running, 4))

    saved = save_prm(prm, tok, args.init, args.out)
    heldout = evaluate(saved, tok, common.read_jsonl(os.path.join(common.WORK, "prm-heldout.jsonl")), pad)
    negatives = os.path.join(common.WORK, "prm-negatives-heldout.jsonl")
    if os.path.exists(negatives):
        heldout["siblings"] = sibling_accuracy(saved, tok, common.read_jsonl(negatives), pad)
    log.event("heldout", **heldout)
    log.set(heldout=heldout)
    print("log:", log.write())


if __name__ == "__main__":
    main()
