#!/usr/bin/python3
"""Train the PRM (Qwen2ForProcessRewardModel) on labelled solutions: prm_negatives.py's rows and the
policy's own sibling candidates (siblings.mjs), with packed-equation batches in between.

Usage: tools/train/py tools/train/train_prm.py --init DIR --data prm-negatives-train.jsonl,siblings-train.jsonl
           --out models/prm [--equation-every 3]

Input format (Qwen2.5-Math-PRM model card): ChatML with the system prompt
"Please reason step by step, and put your final answer within \\boxed{}.", user = problem, assistant =
the steps (the "\n\n"-split pieces, trimmed) each followed by <extra_0>. Loss: cross-entropy of the
2-class head at every <extra_0>, classes weighted to balance good and bad steps, plus `--lm-weight`
times a next-token loss on rows whose every step is right. --init is a policy (its backbone; q/k/v
biases and head start fresh, as Qwen's PRM starts from its instruct model) or a PRM, such as
arith_pretrain.py's output (continued from its f32 train-state.pt). Every `--equation-every`-th step
trains on arith_pretrain.py's packed equations instead, so the arithmetic learnt there is kept. A
sibling file (rows with "candidates") becomes one training row per distinct candidate: the right
prefix, labelled good, then the candidate. With `--rank-every K`, every K-th of the other steps trains
instead on whole sibling states whose candidates disagree: a listwise loss on the last step's log-odds
(ranking_loss), the choice a beam search makes there, which the per-step loss only reaches indirectly.
Held out, every --eval-every steps and on the saved bf16 checkpoint: how the PRM ranks the policy's
sibling candidates on calibration problems (prm_siblings.py, tools/train/work/prm-siblings.jsonl).
"""

import argparse
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


def sibling_rows(states: list[dict], first_state: int = 0) -> list[dict]:
    """Training rows from siblings.mjs states: per distinct non-empty candidate, prefix + candidate,
    tagged with the state's number (for the ranking batches)."""
    rows = []
    for k, st in enumerate(states):
        for step, right in dict((c["step"], c["correct"]) for c in st["candidates"]).items():
            if step:
                rows.append({"problem": st["problem"], "level": st["level"], "steps": st["prefix"] + [step],
                             "labels": [1] * len(st["prefix"]) + [int(right)], "state": first_state + k})
    return rows


def read_rows(names: str) -> list[dict]:
    rows, states = [], 0
    for name in names.split(","):
        file_rows = common.read_jsonl(os.path.join(common.WORK, name))
        if file_rows and "candidates" in file_rows[0]:
            rows += sibling_rows(file_rows, states)
            states += len(file_rows)
        else:
            rows += file_rows
    return rows


def mixed_groups(data) -> list[list[int]]:
    """Indices into `data` of each sibling state's candidates, for the states whose candidates hold
    both a right and a wrong step (the states where a search's choice matters)."""
    groups: dict[int, list[int]] = {}
    for i, (_, _, _, row) in enumerate(data):
        if "state" in row:
            groups.setdefault(row["state"], []).append(i)
    return [g for g in groups.values() if len({data[i][2][-1] for i in g}) == 2]


def ranking_batch(groups, data, budget: int, rng: random.Random) -> list[list[int]]:
    """Whole states drawn at random until the batch holds about `budget` tokens (rows x longest row)."""
    out, longest, rows = [], 0, 0
    while True:
        g = groups[rng.randrange(len(groups))]
        n = max(len(data[i][0]) for i in g)
        if out and max(longest, n) * (rows + len(g)) > budget:
            return out
        out.append(g)
        longest, rows = max(longest, n), rows + len(g)


def ranking_loss(prm, data, states: list[list[int]], pad: int) -> torch.Tensor:
    """Listwise loss over each state's candidates: -log of the softmax mass the PRM's last-step
    log-odds put on the right ones. It trains the very decision beam search makes at that state."""
    flat = [i for g in states for i in g]
    ids, pos, mask, _ = collate(data, flat, pad)
    logits = prm.score(prm.model(ids, pos, mask))
    last = torch.tensor([data[i][1][-1] for i in flat])
    z = logits[torch.arange(len(flat)), last]
    z = z[:, 1] - z[:, 0]
    right = torch.tensor([bool(data[i][2][-1]) for i in flat])
    losses, at = [], 0
    for g in states:
        zg, rg = z[at : at + len(g)], right[at : at + len(g)]
        losses.append(torch.logsumexp(zg, 0) - torch.logsumexp(zg[rg], 0))
        at += len(g)
    return torch.stack(losses).mean()


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
    parser.add_argument("--init", required=True, help="a policy (backbone only; the head starts fresh) or a PRM to continue")
    parser.add_argument("--data", required=True, help="comma-separated training files under tools/train/work")
    parser.add_argument("--out", default=os.path.join(common.MODELS, "prm"))
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch-tokens", type=int, default=2048)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--name", default="prm", help="log name")
    parser.add_argument("--lm-weight", type=float, default=0.5,
                        help="weight of the next-token loss on rows whose steps are all right")
    parser.add_argument("--equation-every", type=int, default=3,
                        help="every K-th step trains on packed equations (arith_pretrain.py's objective); 0: never")
    parser.add_argument("--equation-problems", type=int, default=0,
                        help="the first N problems of tools/train/work/big/train.jsonl give the equations; 0: all "
                             "(the file is sorted by level: its first 200k hold levels 1-3 only)")
    parser.add_argument("--near-miss", type=float, default=0.7, help="near-miss share of the equation batches' slips")
    parser.add_argument("--equation-min-digits", type=int, default=1,
                        help="only equations whose result has at least this many digits (the multi-digit arithmetic "
                             "the PRM misses most)")
    parser.add_argument("--eval-every", type=int, default=500, help="rank held-out siblings every N steps; 0: only after saving")
    parser.add_argument("--rank-every", type=int, default=0,
                        help="every K-th step (of those not on equations) trains the listwise ranking of the sibling "
                             "candidates of mixed states; 0: never")
    parser.add_argument("--add-layers", type=int, default=0,
                        help="new layers on top of --init's (random reads, zero writes: the scores are unchanged until they learn)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    common.seed_everything(args.seed)

    import arith_pretrain as A
    import prm_siblings

    tok, prm = A.load_training_prm(args.init, args.seed)
    if args.add_layers:
        prm = A.with_layers_on_top(prm, args.add_layers, args.seed + 1)
    log = common.RunLog(args.name, {**vars(args), "spec": vars(prm.s), "params": M.count_params(prm)})
    data = encode_rows(tok, read_rows(args.data))
    n_good = sum(sum(d[2]) for d in data)
    n_all = sum(len(d[2]) for d in data)
    weight = torch.tensor([n_all / (2 * (n_all - n_good)), n_all / (2 * n_good)])
    log.event("data", rows=len(data), steps=n_all, good=n_good, bad=n_all - n_good, class_weight=weight.tolist(),
              tokens=sum(len(d[0]) for d in data))
    groups = mixed_groups(data) if args.rank_every else []
    if args.rank_every:
        assert groups, "--rank-every needs sibling data (files with candidates) holding mixed states"
        log.event("ranking", mixed_states=len(groups), candidates=sum(len(g) for g in groups))
    siblings = prm_siblings.mixed_states(common.read_jsonl(prm_siblings.OUT))

    pad = tok.token("<|endoftext|>")
    sep_id = tok.token(common.PRM_STEP_TOKEN)
    newline = tok.encode("\n")[0]
    rng = random.Random(args.seed)
    equations = A.equations(common.read_jsonl(os.path.join(common.WORK, "big", "train.jsonl"))[: args.equation_problems or None])
    equations = [eq for eq in equations if len(str(eq[3])) >= args.equation_min_digits]
    if not equations:
        parser.error(f"--equation-min-digits {args.equation_min_digits}: no equation of the training problems has a result that long")
    enc, header = A.Encoder(tok), tok.encode("<|im_start|>assistant\n")
    opt = torch.optim.AdamW(param_groups(prm, args.weight_decay), lr=args.lr, betas=(0.9, 0.98))
    queue, epoch, seen, trained = [], 0, 0, 0
    t0 = time.time()
    prm.train()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        on_equations = args.equation_every > 0 and step % args.equation_every == args.equation_every - 1
        on_ranking = not on_equations and args.rank_every > 0 and trained % args.rank_every == args.rank_every - 1
        trained += 0 if on_equations else 1
        if on_equations:
            ids, pos, mask, judge, lm = A.packed_batch(equations, 16, 256, enc, rng, pad, header, args.near_miss)
            loss, judge_loss, lm_loss = A.equation_loss(prm, ids, pos, mask, judge, lm, 1.0)
        elif on_ranking:
            states = ranking_batch(groups, data, args.batch_tokens, rng)
            judge_loss = loss = ranking_loss(prm, data, states, pad)
            lm_loss = torch.tensor(0.0)
        else:
            if not queue:
                queue = batches(data, args.batch_tokens, rng)
                epoch += 1
            batch = queue.pop()
            ids, pos, mask, targets = collate(data, batch, pad)
            hidden = prm.model(ids, pos, mask)
            judge_loss = F.cross_entropy(prm.score(hidden).view(-1, 2), targets.view(-1), weight=weight, ignore_index=-100)
            lm = lm_targets(data, batch, ids, sep_id, newline)
            lm_logits = hidden @ prm.model.embed_tokens.weight.T
            lm_loss = (F.cross_entropy(lm_logits.view(-1, lm_logits.shape[-1]), lm.view(-1), ignore_index=-100)
                       if (lm >= 0).any() else torch.tensor(0.0))
            loss = judge_loss + args.lm_weight * lm_loss
            seen += int(ids.numel())
        opt.zero_grad()
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(prm.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == args.steps - 1:
            log.loss(step, judge=round(judge_loss.item(), 4), ranking=on_ranking, lm=round(lm_loss.item(), 4), equations=on_equations,
                     grad_norm=round(float(gnorm), 3), lr=round(opt.param_groups[0]["lr"], 6), epoch=epoch, tokens=seen)
        if step % 100 == 0:
            print(f"step {step} judge {judge_loss.item():.4f} lm {lm_loss.item():.4f} epoch {epoch} "
                  f"{time.time() - t0:.0f}s", flush=True)
        if args.eval_every and step % args.eval_every == args.eval_every - 1 and step != args.steps - 1:
            log.event("siblings", step=step, **prm_siblings.ranking(siblings, prm_siblings.candidate_scores(prm, tok, siblings)))
            prm.train()
    log.set(train_seconds=round(time.time() - t0, 1), tokens_seen=seen, epochs=epoch)

    saved = A.save_with_state(prm, tok, args.out)
    result = prm_siblings.ranking(siblings, prm_siblings.candidate_scores(saved, tok, siblings))
    log.event("siblings", step=args.steps, saved_bf16=True, **result)
    log.set(heldout_siblings=result)
    print("log:", log.write())


if __name__ == "__main__":
    main()
