#!/usr/bin/python3
"""The choice a step-level search asks of a PRM, measured on the policy's own candidates.

Usage:
    tools/train/py tools/train/prm_siblings.py build [--policy models/policy] [--k 16] [--levels 2,3,4,5]
    tools/train/py tools/train/prm_siblings.py rank PRM_DIR [PRM_DIR ...] [--name prm-siblings-rank]

Why: synthetic sibling pairs (prm_negatives.py) say how a PRM ranks a right step against a slip we
made up; beam search and DVTS instead choose among the steps the policy itself samples. `build` walks
each calibration problem (held out from every training run) along a right path: at every state it
samples `--k` next steps at T=0.8 from the policy, labels each with the package's checker (right = the
step and all before it right; an answer step must also give the right answer), records the state,
and moves on with the first right candidate; the walk ends when no candidate is right or an answer
is given. States whose candidates are mixed (some right, some wrong) are where a verifier decides.
Writes tools/train/work/prm-siblings.jsonl: {"level", "problem", "prefix": [steps], "candidates":
[{"step", "correct", "reasons"}]}, and logs how many problems such an oracle-guided walk solves
(the ceiling of a step-level search with a perfect verifier at this k).

`rank` scores every distinct candidate of every mixed state with each PRM and reports per level:
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
import sampler
import tokenizer as T

OUT = os.path.join(common.WORK, "prm-siblings.jsonl")


def build(args) -> None:
    torch.set_num_threads(args.threads)
    log = common.RunLog("prm-siblings", vars(args))
    lm = M.load_pretrained(args.policy)
    lm.eval()
    tok = T.load(args.policy)
    levels = {int(x) for x in args.levels.split(",")}
    records = [r for r in common.read_jsonl(os.path.join(common.DATA, "calibration.jsonl")) if r["level"] in levels]
    stop = {tok.token("<|im_end|>"), tok.token("<|endoftext|>")}
    pad = tok.token("<|endoftext|>")
    newline = tok.encode("\n")[0]
    g = torch.Generator().manual_seed(args.seed)
    prompts = [tok.encode(common.policy_prompt(r["problem"])) for r in records]
    path_ids: list[list[int]] = [[] for _ in records]  # token ids of the right path so far (never re-encoded)
    path_text = [""] * len(records)
    outcome: dict[int, bool] = {}
    rows = []
    for _ in range(args.max_steps):
        live = [i for i in range(len(records)) if i not in outcome]
        if not live:
            break
        batch = [prompts[i] + path_ids[i] for i in live for _ in range(args.k)]
        outs = []
        for s in range(0, len(batch), 256):
            # A step ends at "\n\n", which is two "\n" tokens: stop at the first and append the second.
            for o in sampler.generate(lm, batch[s : s + 256], args.max_step_tokens, 0.8, stop | {newline}, pad, g):
                outs.append(o + [newline] if o and o[-1] == newline else o)
        texts = [tok.decode([t for t in o if t not in stop]) for o in outs]
        full = [path_text[live[j // args.k]] + texts[j] for j in range(len(outs))]
        checked = common.check([(records[live[j // args.k]]["structured"], full[j]) for j in range(len(outs))])
        for n, i in enumerate(live):
            before = len(common.split_steps(path_text[i]))
            candidates, pick = [], None
            for j in range(n * args.k, (n + 1) * args.k):
                res, ended = checked[j], bool(outs[j]) and outs[j][-1] in stop
                final = ended or "\\boxed{" in texts[j]
                right = len(res["steps"]) > before and all(s["correct"] for s in res["steps"])
                right = right and (res["solved"] if final else True)
                candidates.append({"step": texts[j].strip(), "correct": right,
                                   "reasons": res["steps"][-1]["reasons"] if res["steps"] else ["empty"]})
                if right and pick is None:
                    pick = (j, final)
            rows.append({"level": records[i]["level"], "problem": records[i]["problem"],
                         "prefix": common.split_steps(path_text[i]), "candidates": candidates})
            if pick is None:
                outcome[i] = False
            elif pick[1]:
                outcome[i] = True
            else:
                path_ids[i] = path_ids[i] + outs[pick[0]]
                path_text[i] = full[pick[0]]
    common.write_jsonl(args.out, rows)
    per_level = collections.defaultdict(lambda: [0, 0, 0, 0])  # problems, solved by the walk, states, mixed states
    for i, r in enumerate(records):
        per_level[r["level"]][0] += 1
        per_level[r["level"]][1] += outcome.get(i, False)
    for row in rows:
        n_right = sum(c["correct"] for c in row["candidates"])
        per_level[row["level"]][2] += 1
        per_level[row["level"]][3] += 0 < n_right < len(row["candidates"])
    summary = {str(lv): {"problems": p, "oracle_walk_solved": round(s / p, 3), "states": st, "mixed_states": m}
               for lv, (p, s, st, m) in sorted(per_level.items())}
    log.event("written", rows=len(rows), per_level=summary)
    print("log:", log.write())


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
    """Per level and overall: top-1 right rate, pairwise AUC within states, and step majority's rate."""
    acc = collections.defaultdict(lambda: [0, 0, 0.0, 0, 0])  # top-1 right, states, pair wins, pairs, majority right
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
            for i, ci in enumerate(cands):
                for j, cj in enumerate(cands):
                    if ci["correct"] and not cj["correct"]:
                        a[3] += 1
                        a[2] += 1.0 if s[i] > s[j] else 0.5 if s[i] == s[j] else 0.0
    return {k: {"states": a[1], "top1": round(a[0] / a[1], 3), "auc": round(a[2] / a[3], 3),
                "step_majority": round(a[4] / a[1], 3)} for k, a in sorted(acc.items())}


def rank(args) -> None:
    torch.set_num_threads(args.threads)
    rows = mixed_states(common.read_jsonl(args.data))
    log = common.RunLog(args.name, vars(args))
    for prm_dir in args.prms:
        result = ranking(rows, candidate_scores(M.load_pretrained(prm_dir), T.load(prm_dir), rows))
        log.event("ranked", prm=prm_dir, **result)
    print("log:", log.write())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--policy", default=os.path.join(common.MODELS, "policy"))
    b.add_argument("--k", type=int, default=16)
    b.add_argument("--levels", default="2,3,4,5")
    b.add_argument("--max-steps", type=int, default=12)
    b.add_argument("--max-step-tokens", type=int, default=60)
    b.add_argument("--seed", type=int, default=7)
    b.add_argument("--out", default=OUT)
    b.add_argument("--threads", type=int, default=1)
    r = sub.add_parser("rank")
    r.add_argument("prms", nargs="+")
    r.add_argument("--data", default=OUT)
    r.add_argument("--name", default="prm-siblings-rank")
    r.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    build(args) if args.command == "build" else rank(args)


if __name__ == "__main__":
    main()
