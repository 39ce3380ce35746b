#!/usr/bin/python3
"""The choice a step-level search asks of a PRM, measured on the policy's own candidates.

Usage:
    node tools/train/siblings.mjs --data models/data/calibration.jsonl.gz --out tools/train/work/prm-siblings.jsonl
    tools/train/py tools/train/prm_siblings.py PRM_DIR [PRM_DIR ...] [--name prm-siblings-rank]

Why: synthetic sibling pairs (prm_negatives.py) say how a PRM ranks a right step against a slip we
made up; beam search and DVTS instead choose among the steps the policy itself samples. siblings.mjs
walks each calibration problem (held out from every training run) along a right path, sampling k=16
next steps at every state with the engine and labelling each with the checker. States whose candidates
are mixed (some right, some wrong) are where a verifier decides.

This script scores every distinct candidate of every mixed state with each PRM and reports per level:
top-1 (the highest-scored candidate is right: what a search keeps), pairwise AUC (right vs wrong
candidates of the same state) and, for reference, step majority (the most frequent candidate is
right: what the policy's own vote picks, no PRM). Writes tools/train/logs/<name>.json.
"""

import argparse
import collections
import os

import torch

import common
import model as M
import tokenizer as T

OUT = os.path.join(common.WORK, "prm-siblings.jsonl")


def mixed_states(rows: list[dict]) -> list[dict]:
    return [r for r in rows if 0 < sum(c["correct"] for c in r["candidates"]) < len(r["candidates"])]


@torch.no_grad()
def candidate_scores(prm, tok, rows: list[dict], batch: int = 128) -> list[list[float]]:
    """The PRM's reward of each candidate (at its <extra_0>), per row; each distinct step text once."""
    sep = tok.token(common.PRM_STEP_TOKEN)
    pad = tok.token("<|endoftext|>")
    items = []
    for ri, r in enumerate(rows):
        for step in dict.fromkeys(c["step"] for c in r["candidates"]):
            items.append((ri, step, tok.encode(common.prm_text(r["problem"], r["prefix"] + [step]))))
    items.sort(key=lambda it: len(it[2]))
    score: dict[tuple[int, str], float] = {}
    prm.eval()
    for s in range(0, len(items), batch):
        chunk = items[s : s + batch]
        ids, pos, valid = M.right_padded([it[2] for it in chunk], pad)
        probs = torch.softmax(prm(ids, pos, M.causal_mask(valid)), dim=-1)[..., 1]
        for j, (ri, step, x) in enumerate(chunk):
            score[(ri, step)] = probs[j, len(x) - 1 - x[::-1].index(sep)].item()
    return [[score[(ri, c["step"])] for c in r["candidates"]] for ri, r in enumerate(rows)]


def ranking(rows: list[dict], scores: list[list[float]]) -> dict:
    """Per level and overall: top-1 right rate, pairwise AUC within states, step majority's rate, and
    the checker's reasons for the wrong top picks (`misses`: which slips the PRM lets through)."""
    acc = collections.defaultdict(lambda: [0, 0, 0.0, 0, 0])  # top-1 right, states, pair wins, pairs, majority right
    misses = collections.defaultdict(collections.Counter)
    for r, s in zip(rows, scores):
        cands = r["candidates"]
        counts = collections.Counter(c["step"] for c in cands)
        top = max(range(len(cands)), key=lambda i: (s[i], -i))
        majority = max(range(len(cands)), key=lambda i: (counts[cands[i]["step"]], -i))
        for key in (str(r["level"]), "all"):
            a = acc[key]
            a[0] += cands[top]["correct"]
            a[1] += 1
            a[4] += cands[majority]["correct"]
            if not cands[top]["correct"]:
                misses[key][",".join(cands[top]["reasons"])] += 1
            for i, ci in enumerate(cands):
                for j, cj in enumerate(cands):
                    if ci["correct"] and not cj["correct"]:
                        a[3] += 1
                        a[2] += 1.0 if s[i] > s[j] else 0.5 if s[i] == s[j] else 0.0
    return {k: {"states": a[1], "top1": round(a[0] / a[1], 3), "auc": round(a[2] / a[3], 3),
                "step_majority": round(a[4] / a[1], 3), "misses": dict(misses[k].most_common())}
            for k, a in sorted(acc.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prms", nargs="+")
    parser.add_argument("--data", default=OUT)
    parser.add_argument("--name", default="prm-siblings-rank")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = mixed_states(common.read_jsonl(args.data))
    log = common.RunLog(args.name, vars(args))
    for prm_dir in args.prms:
        result = ranking(rows, candidate_scores(M.load_pretrained(prm_dir), T.load(prm_dir), rows))
        log.event("ranked", prm=prm_dir, **result)
    print("log:", log.write())


if __name__ == "__main__":
    main()
