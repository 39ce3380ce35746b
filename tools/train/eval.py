#!/usr/bin/python3
"""Evaluate saved policies on the same test problems: greedy and T=0.8 accuracy per level, judged by
the package's exact checker. Writes tools/train/logs/eval-<model dir name>.json.

Usage: tools/train/py tools/train/eval.py models/policy models/policy-large [--per-level 500]
           [--sampled-per-level 500] [--seed 1]
The first N problems of each models/data/test-level-L.jsonl.gz are used, so two models evaluated with
the same N see the same problems.
"""

import argparse
import json
import os
import time

import torch

import common
import model as M
import sampler
import tokenizer as T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+")
    parser.add_argument("--per-level", type=int, default=500)
    parser.add_argument("--sampled-per-level", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for model_dir in args.models:
        t0 = time.time()
        lm = M.load_pretrained(model_dir)
        tok = T.load(model_dir)
        greedy = sampler.evaluate(lm, tok, sampler.test_records(args.per_level), 0.0)
        t1 = time.time()
        sampled = sampler.evaluate(lm, tok, sampler.test_records(args.sampled_per_level), 0.8, seed=args.seed)
        doc = {"model": model_dir, "params": M.count_params(lm), "settings": vars(args), "greedy": greedy,
               "sampled_t08": sampled, "greedy_seconds": round(t1 - t0, 1), "sampled_seconds": round(time.time() - t1, 1)}
        name = os.path.basename(os.path.normpath(model_dir))
        os.makedirs(common.LOGS, exist_ok=True)
        with open(os.path.join(common.LOGS, f"eval-{name}.json"), "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        print(json.dumps(doc))


if __name__ == "__main__":
    main()
