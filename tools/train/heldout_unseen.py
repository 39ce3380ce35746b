#!/usr/bin/python3
"""Near-miss verification on equations that never occur in training.

Usage: tools/train/py tools/train/heldout_unseen.py [--prm models/prm] [--name heldout-unseen-equations]

Why: arith_pretrain.py's held-out check ("verifies 96.5% of near misses") draws 3,000 equations from
the test problems' reference solutions. The split is disjoint by problem, not by equation: most of
those equations ("12 * 3 = 36") also occur word for word in the equations of the 600,000 training
problems that arith_pretrain.py and train_prm.py train on. This script measures, for one PRM checkpoint:
- how many of the published 3,000 held-out equations occur in the training problems' equations;
- near-miss judging and exact-result accuracy (arith_pretrain.heldout_accuracy) on those 3,000;
- the same on up to 3,000 distinct test equations that occur in no training problem's reference solution.
"Training" here is the reference equations of tools/train/work/big/train.jsonl (which contains the
policy's train set); the policy-sampled sibling steps of the later PRM stages are not checked.

Needs tools/train/work/big/train.jsonl (tools/train/README.md step 5; about a minute). Writes
tools/train/logs/<name>.json.
"""

import argparse
import collections
import os
import random

import torch

import arith_pretrain as A
import common
import model as M
import tokenizer as T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prm", default=os.path.join(common.MODELS, "prm"), help="saved PRM directory (bf16)")
    parser.add_argument("--problems", default=os.path.join(common.WORK, "big", "train.jsonl"))
    parser.add_argument("--name", default="heldout-unseen-equations")
    parser.add_argument("--newline-after", action="store_true", help="pack as arith_pretrain's first stage did")
    parser.add_argument("--limit", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    train = set(A.equations(common.read_jsonl(args.problems)))
    published = A.heldout_equations()
    in_train = [eq in train for eq in published]
    test_eqs = A.equations([r for level in common.LEVELS for r in common.test_records_of(level)])
    unseen = sorted({eq for eq in test_eqs if eq not in train})
    random.Random(0).shuffle(unseen)
    unseen = unseen[: args.limit]

    log = common.RunLog(args.name, {**vars(args), "prm": os.path.relpath(args.prm, common.ROOT), "problems": os.path.relpath(args.problems, common.ROOT)})
    log.event(
        "overlap",
        train_distinct_equations=len(train),
        published_heldout=len(published),
        published_in_train=sum(in_train),
        published_in_train_by_op=dict(collections.Counter(eq[1] for eq, seen in zip(published, in_train) if seen)),
        published_by_op=dict(collections.Counter(eq[1] for eq in published)),
        test_equations=len(test_eqs),
        test_distinct=len(set(test_eqs)),
        test_distinct_unseen=len({eq for eq in test_eqs if eq not in train}),
        unseen_measured=len(unseen),
        unseen_by_op=dict(collections.Counter(eq[1] for eq in unseen)),
    )
    tok = T.load(args.prm)
    prm = M.load_pretrained(args.prm)
    enc = A.Encoder(tok, args.newline_after)
    pad = tok.token("<|endoftext|>")
    header = tok.encode("<|im_start|>assistant\n")
    log.set(published=A.heldout_accuracy(prm, published, enc, pad, header))
    log.set(unseen=A.heldout_accuracy(prm, unseen, enc, pad, header))
    print("log:", log.write())


if __name__ == "__main__":
    main()
