#!/usr/bin/python3
"""Local hard negatives for the PRM: reference solutions cut after a step that is wrong in one small
way, next to the same prefix with the right step.

Usage: tools/train/py tools/train/prm_negatives.py [--per-level 6000] [--seed 7]

Why: the policy's own samples (prm_data.py) teach the PRM that a solution went wrong somewhere, but a
search needs the PRM to rank sibling candidates that differ in one step: "48 + 87 = 135" against
"48 + 87 = 125". The policy's slips are of a few kinds, and each kind here imitates one: a result digit
off (carry errors: +-1, +-10, +-100, one digit changed, dropped or doubled), an operand copied wrong from
the problem or from the previous result (the result then computed for the wrong operand, so only a
check against the problem finds it), the wrong operation, and a wrong boxed answer. Every row is
labelled by the package's exact checker, never by how it was made, so a corruption that happens to be
right is labelled right. Each corrupted row comes with its correct twin (same prefix, right step).

Writes tools/train/work/prm-negatives-{train,heldout}.jsonl (rows as prm_data.py writes them) and
tools/train/logs/prm-negatives.json.
"""

import argparse
import collections
import os
import random
import re

import common

STEP = re.compile(r"^(\d+) ([-+*/]) (\d+) = (\d+)$")
ANSWER = re.compile(r"^The answer is \\boxed\{(\d+)\}\.$")
OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
       "/": lambda a, b: a // b if b and a % b == 0 else None}


def digit_slip(n: int, rng: random.Random) -> int | None:
    """n with one slip of the kinds a small model makes when copying or computing a number."""
    s = str(n)
    kind = rng.choice(["delta", "delta", "digit", "drop", "double"])
    if kind == "delta":
        out = n + rng.choice([-1, 1]) * rng.choice([1, 10, 100] if n >= 100 else [1, 10])
    elif kind == "digit":
        i = rng.randrange(len(s))
        choices = [d for d in "0123456789" if d != s[i] and not (i == 0 and d == "0" and len(s) > 1)]
        out = int(s[:i] + rng.choice(choices) + s[i + 1:])
    elif kind == "drop" and len(s) > 1:
        i = rng.randrange(len(s))
        out = int(s[:i] + s[i + 1:])
    else:
        i = rng.randrange(len(s))
        out = int(s[:i] + s[i] + s[i:])
    return out if out >= 0 and out != n else None


def corrupt(step: str, rng: random.Random) -> str | None:
    """One wrong version of a reference step, or None when this draw gives nothing usable."""
    m = ANSWER.match(step)
    if m:
        wrong = digit_slip(int(m.group(1)), rng)
        return None if wrong is None else f"The answer is \\boxed{{{wrong}}}."
    m = STEP.match(step)
    if not m:
        return None
    a, op, b, c = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
    kind = rng.choice(["result", "result", "result", "operand", "previous", "operation"])
    if kind == "result":
        wrong = digit_slip(c, rng)
        return None if wrong is None else f"{a} {op} {b} = {wrong}"
    if kind == "operation":
        op = rng.choice([o for o in OPS if o != op])
    elif kind == "operand":
        b = digit_slip(b, rng)
    else:
        a = digit_slip(a, rng)
    if a is None or b is None:
        return None
    value = OPS[op](a, b)
    return None if value is None or value < 0 else f"{a} {op} {b} = {value}"


def build(records: list[dict], rng: random.Random) -> list[dict]:
    pairs = []
    for r in records:
        steps = common.split_steps(r["solution"])
        i = rng.randrange(len(steps))
        for _ in range(4):
            wrong = corrupt(steps[i], rng)
            if wrong is not None:
                pairs.append((r, steps[:i], steps[i], wrong))
                break
    items = []
    for r, prefix, right, wrong in pairs:
        for step in (right, wrong):
            items.append((r, prefix + [step]))
    checked = common.check([(r["structured"], common.STEP_SEPARATOR.join(steps)) for r, steps in items])
    rows = []
    for (r, steps), res in zip(items, checked):
        if len(res["steps"]) != len(steps):
            continue
        labels, ok = [], True
        for s in res["steps"]:
            ok = ok and s["correct"]
            labels.append(int(ok))
        rows.append({"problem": r["problem"], "level": r["level"], "steps": steps, "labels": labels,
                     "source": "negative" if labels[-1] == 0 else "reference-prefix", "solved": False})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default=os.path.join(common.WORK, "train.jsonl"))
    parser.add_argument("--per-level", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    log = common.RunLog("prm-negatives", vars(args))
    rng = random.Random(args.seed)
    records = common.read_jsonl(args.train)
    chosen = []
    for level in common.LEVELS:
        pool = [r for r in records if r["level"] == level]
        chosen.extend(rng.sample(pool, min(args.per_level, len(pool))))
    train = build(chosen, rng)
    heldout = build(common.read_jsonl(os.path.join(common.DATA, "calibration.jsonl")), rng)
    for name, rows in (("train", train), ("heldout", heldout)):
        common.write_jsonl(os.path.join(common.WORK, f"prm-negatives-{name}.jsonl"), rows)
        last = collections.Counter(r["labels"][-1] for r in rows)
        log.event(name, rows=len(rows), last_step_good=last[1], last_step_bad=last[0])
    log.set(train_rows=len(train), heldout_rows=len(heldout))
    print("log:", log.write())


if __name__ == "__main__":
    main()
