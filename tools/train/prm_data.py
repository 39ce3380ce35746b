#!/usr/bin/python3
"""Process-supervision data for the PRM: the policy's own samples, labelled step by step with the
package's exact checker, plus the reference solutions.

Usage: tools/train/py tools/train/prm_data.py [--policy models/policy] [--per-level 1200] [--k 4]

Train problems: `--per-level` train records per level (a seeded draw disjoint from nothing in
particular: the PRM may see problems the policy trained on, as Qwen's PRM does). Held-out problems:
the calibration split (never trained on by anyone). Each problem gets `--k` samples at T=0.8 from the
policy; identical samples of one problem are kept once.

Labels (decided here, documented in models/prm/README.md): Math-Shepherd style prefix correctness.
A step is good iff the checker marks it and every step before it correct. The checker already judges
each step against the true running value, so a step that carries a wrong value forward is wrong by
itself; the prefix rule also marks bad the rare step that returns to the true value after an error,
because a search that keeps such a prefix still holds a wrong step. Output JSONL rows:
{"problem", "level", "steps": [...], "labels": [0/1 ...], "source": "policy"|"reference", "solved"}
to tools/train/work/prm-{train,heldout}.jsonl, and a summary to tools/train/logs/prm-data.json.
"""

import argparse
import collections
import os
import random

import torch

import common
import model as M
import sampler
import tokenizer as T


def label(records: list[dict], texts: list[str], source: str) -> list[dict]:
    rows = []
    for r, t, res in zip(records, texts, common.check([(r["structured"], t) for r, t in zip(records, texts)])):
        steps = common.split_steps(t)
        if len(steps) != len(res["steps"]) or not steps:
            continue  # the checker and the splitter disagree only on empty text
        labels, ok = [], True
        for s in res["steps"]:
            ok = ok and s["correct"]
            labels.append(int(ok))
        rows.append({"problem": r["problem"], "level": r["level"], "steps": steps, "labels": labels,
                     "source": source, "solved": res["solved"]})
    return rows


def sample_and_label(lm, tok, records: list[dict], k: int, seed: int, log: "common.RunLog", tag: str) -> list[dict]:
    problems = [r for r in records for _ in range(k)]
    texts = sampler.completions(lm, tok, [r["problem"] for r in problems], 0.8, seed, batch=192)
    rows = label(problems, texts, "policy")
    unique, seen = [], set()
    for row in rows:
        key = (row["problem"], tuple(row["steps"]))
        if key not in seen:
            seen.add(key)
            unique.append(row)
    by_level = collections.defaultdict(lambda: [0, 0, 0, 0])
    for row in unique:
        c = by_level[row["level"]]
        c[0] += 1
        c[1] += row["solved"]
        c[2] += sum(row["labels"])
        c[3] += len(row["labels"])
    log.event(f"{tag}-samples", generated=len(texts), unique=len(unique),
              per_level={lv: {"samples": c[0], "solved": round(c[1] / c[0], 3), "good_steps": c[2], "steps": c[3]}
                         for lv, c in sorted(by_level.items())})
    return unique


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy", default=os.path.join(common.MODELS, "policy"))
    parser.add_argument("--train", default=os.path.join(common.WORK, "train.jsonl"))
    parser.add_argument("--per-level", type=int, default=1200)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    common.seed_everything(args.seed)
    log = common.RunLog("prm-data", vars(args))
    lm = M.load_pretrained(args.policy)
    tok = T.load(args.policy)

    rng = random.Random(args.seed)
    records = common.read_jsonl(args.train)
    chosen = []
    for level in common.LEVELS:
        pool = [r for r in records if r["level"] == level]
        chosen.extend(rng.sample(pool, args.per_level))
    train_rows = sample_and_label(lm, tok, chosen, args.k, args.seed, log, "train")
    train_rows += label(chosen, [r["solution"] for r in chosen], "reference")
    heldout = common.read_jsonl(os.path.join(common.DATA, "calibration.jsonl"))
    heldout_rows = sample_and_label(lm, tok, heldout, args.k, args.seed + 1, log, "heldout")
    common.write_jsonl(os.path.join(common.WORK, "prm-train.jsonl"), train_rows)
    common.write_jsonl(os.path.join(common.WORK, "prm-heldout.jsonl"), heldout_rows)
    good = sum(sum(r["labels"]) for r in train_rows)
    total = sum(len(r["labels"]) for r in train_rows)
    log.set(train_rows=len(train_rows), train_steps=total, train_good_steps=good, heldout_rows=len(heldout_rows))
    log.event("written", train_rows=len(train_rows), good=good, bad=total - good, heldout_rows=len(heldout_rows))
    print("log:", log.write())


if __name__ == "__main__":
    main()
