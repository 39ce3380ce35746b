#!/usr/bin/python3
"""Train a policy (LlamaForCausalLM, tied embeddings) on ChatML-formatted reference solutions.

Usage (see tools/train/README.md for the environment):
    tools/train/py tools/train/train_policy.py --size small --out models/policy
    tools/train/py tools/train/train_policy.py --size large --out models/policy-large

Each example is `<|im_start|>user\n{problem}<|im_end|>\n<|im_start|>assistant\n{solution}<|im_end|>`;
one in four also carries the Qwen2.5-Math system turn first, so either prompt works. The loss covers
the assistant part only (solution and <|im_end|>). Batches are token-budgeted and length-bucketed;
AdamW with linear warmup and cosine decay; a fixed number of steps (deterministic for a seed). After
training the checkpoint is saved in bf16 and evaluated FROM THE SAVED FILES: greedy and T=0.8 accuracy
per level on the test split, written to tools/train/logs/<name>.json.
"""

import argparse
import math
import os
import random
import shutil
import time

import torch
import torch.nn.functional as F

import common
import grow
import model as M
import sampler
import tokenizer as T

SIZES = {
    # ~1.1M parameters: good on levels 1-2, slips on the long chains of levels 3-5.
    "small": dict(hidden=160, layers=4, heads=4, kv_heads=2, intermediate=384),
    # 14.1x small, same head_dim (40) and KV heads so grow.py can start it from the small policy.
    "large": dict(hidden=400, layers=8, heads=10, kv_heads=2, intermediate=1312),
}


def examples(tok: "T.TaskTokenizer", records: list[dict], seed: int) -> list[tuple[list[int], int]]:
    """(token ids, index of the first supervised token) per record."""
    rng = random.Random(seed)
    end = tok.token("<|im_end|>")
    out = []
    for r in records:
        prompt = tok.encode(common.policy_prompt(r["problem"], system=rng.random() < 0.25))
        out.append((prompt + tok.encode(r["solution"]) + [end], len(prompt)))
    return out


def batches(data: list, budget: int, rng: random.Random) -> list[list[int]]:
    """Index batches of about `budget` tokens (rows x longest row): shuffle, sort windows of 64
    batches by length so rows in a batch have similar lengths, then shuffle the batches."""
    order = list(range(len(data)))
    rng.shuffle(order)
    avg = sum(len(d[0]) for d in data) / len(data)
    window = max(1, int(64 * budget / avg))
    out = []
    for w in range(0, len(order), window):
        chunk = sorted(order[w : w + window], key=lambda i: len(data[i][0]))
        cur: list[int] = []
        longest = 0
        for i in chunk:
            n = len(data[i][0])
            if cur and max(longest, n) * (len(cur) + 1) > budget:
                out.append(cur)
                cur, longest = [], 0
            cur.append(i)
            longest = max(longest, n)
        if cur:
            out.append(cur)
    rng.shuffle(out)
    return out


def curriculum(queue: list[list[int]], levels: list[int], spread: float, rng: random.Random) -> list[list[int]]:
    """Easy levels first, gradually: order batches by their mean level plus U(0, spread) noise, so the
    first batches are mostly levels 1-2 (short problems, where copying operands and carrying digits
    are learned fastest) and the last mostly 4-5. Returned reversed, because batches are popped."""
    keyed = [(sum(levels[i] for i in b) / len(b) + rng.uniform(0, spread), k) for k, b in enumerate(queue)]
    return [queue[k] for _, k in sorted(keyed, reverse=True)]


def collate(data, idx, pad: int):
    rows = [data[i][0] for i in idx]
    ids, pos, valid = M.right_padded(rows, pad)
    targets = torch.full_like(ids, -100)
    for j, i in enumerate(idx):
        toks, first = data[i]
        # position p predicts token p + 1; supervise the predictions of tokens first .. end
        targets[j, first - 1 : len(toks) - 1] = torch.tensor(toks[first:])
    return ids, pos, M.causal_mask(valid), targets


@torch.no_grad()
def growth_drift(small, large, tok) -> float:
    """Largest logit change growth caused on a test problem (only RMSNorm's eps should move them)."""
    r = common.test_records_of(3)[0]
    ids, pos, valid = M.right_padded([tok.encode(common.policy_prompt(r["problem"]) + r["solution"])], 0)
    mask = M.causal_mask(valid)
    return round(float((small(ids, pos, mask) - large(ids, pos, mask)).abs().max()), 5)


def lr_at(step: int, steps: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def param_groups(module, weight_decay: float):
    decay = [p for n, p in module.named_parameters() if p.dim() >= 2]
    rest = [p for n, p in module.named_parameters() if p.dim() < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--name", help="log name (default policy-<size>)")
    parser.add_argument("--steps", type=int, default=2200)
    parser.add_argument("--batch-tokens", type=int, default=2048)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--train", default=os.path.join(common.WORK, "train.jsonl"))
    parser.add_argument("--tokenizer", default=os.path.join(common.WORK, "tokenizer"))
    parser.add_argument("--eval-per-level", type=int, default=500, help="test problems per level for greedy accuracy")
    parser.add_argument("--sample-eval-per-level", type=int, default=500, help="test problems per level for T=0.8 accuracy")
    parser.add_argument("--init-from", help="grow this trained policy into the new size (grow.py) instead of a random init")
    parser.add_argument("--keep", default="1,1,1,1,1", help="fraction of each level's train records to use (seeded)")
    parser.add_argument("--curriculum", type=float, default=0.0,
                        help="order the first epoch's batches easy-to-hard with this much noise (0 = random order)")
    parser.add_argument("--bench", type=int, default=0, help="only time this many steps and exit")
    args = parser.parse_args()
    name = args.name or f"policy-{args.size}"
    torch.set_num_threads(args.threads)
    common.seed_everything(args.seed)

    tok = T.load(args.tokenizer)
    spec = M.Spec(arch="LlamaForCausalLM", vocab=tok.size, **SIZES[args.size])
    if args.init_from:
        small = M.load_pretrained(args.init_from)
        lm = grow.grow(small, spec, args.seed)
        drift = growth_drift(small, lm, tok)
    else:
        lm = M.build(spec)
        M.init_weights(lm, args.seed)
    n_params = M.count_params(lm)
    log = common.RunLog(name, {**vars(args), "spec": vars(spec), "params": n_params})
    log.event("start", params=n_params, spec=vars(spec))
    if args.init_from:
        log.event("grown", source=args.init_from, source_params=M.count_params(small), max_abs_logit_change=drift)

    keep = [float(x) for x in args.keep.split(",")]
    keep_rng = random.Random(args.seed + 100)
    records = [r for r in common.read_jsonl(args.train) if keep_rng.random() < keep[r["level"] - 1]]
    data = examples(tok, records, args.seed)
    levels = [r["level"] for r in records]
    log.event("data", examples=len(data), tokens=sum(len(d[0]) for d in data),
              supervised=sum(len(d[0]) - d[1] for d in data))
    rng = random.Random(args.seed)
    pad = tok.token("<|endoftext|>")
    opt = torch.optim.AdamW(param_groups(lm, args.weight_decay), lr=args.lr, betas=(0.9, 0.98), eps=1e-8)

    epoch, queue, seen_tokens = 0, [], 0
    steps = args.bench or args.steps
    lm.train()
    t0 = time.time()
    running = None
    for step in range(steps):
        if not queue:
            queue = batches(data, args.batch_tokens, rng)
            if args.curriculum and epoch == 0:
                queue = curriculum(queue[: steps - step], levels, args.curriculum, rng)
            epoch += 1
        idx = queue.pop()
        ids, pos, mask, targets = collate(data, idx, pad)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, args.lr, args.warmup)
        logits = lm(ids, pos, mask)
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
        opt.step()
        seen_tokens += int(ids.numel())
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 25 == 0 or step == steps - 1:
            log.loss(step, loss=round(loss.item(), 4), smooth=round(running, 4), grad_norm=round(float(gnorm), 3),
                     lr=round(opt.param_groups[0]["lr"], 6), epoch=epoch, tokens=seen_tokens)
        if step % 200 == 0 or step == steps - 1:
            rate = seen_tokens / (time.time() - t0)
            print(f"step {step} loss {loss.item():.4f} smooth {running:.4f} gnorm {float(gnorm):.2f} "
                  f"epoch {epoch} {rate:.0f} tok/s {time.time() - t0:.0f}s", flush=True)
    train_seconds = time.time() - t0
    log.set(train_seconds=round(train_seconds, 1), tokens_seen=seen_tokens, epochs=round(epoch, 2),
            final_loss_smooth=round(running, 4))
    if args.bench:
        print(f"bench: {seen_tokens / train_seconds:.0f} tokens/s, {train_seconds / steps:.2f} s/step")
        return

    M.save_pretrained(lm, args.out, bos=pad, eos=tok.token("<|im_end|>"),
                      eos_list=[tok.token("<|im_end|>"), pad], pad=pad,
                      generation={"do_sample": True, "temperature": 0.8, "top_p": 1.0})
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(args.tokenizer, f), os.path.join(args.out, f))
    log.event("saved", out=args.out, train_seconds=round(train_seconds, 1))

    saved = M.load_pretrained(args.out)  # evaluate what ships: bf16 weights
    greedy = sampler.evaluate(saved, tok, sampler.test_records(args.eval_per_level), 0.0)
    log.event("greedy", accuracy=greedy)
    sampled = sampler.evaluate(saved, tok, sampler.test_records(args.sample_eval_per_level), 0.8, seed=args.seed)
    log.event("sampled", temperature=0.8, accuracy=sampled)
    log.set(greedy=greedy, sampled_t08=sampled)
    print("log:", log.write())


if __name__ == "__main__":
    main()
