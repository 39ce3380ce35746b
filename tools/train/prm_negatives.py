#!/usr/bin/python3
"""Hard negatives for the PRM in context: reference solutions with one step wrong in the ways the
policy's are, next to the right solution.

Usage: tools/train/py tools/train/prm_negatives.py [--problems tools/train/work/big/train.jsonl] [--n 150000] [--seed 3]

Why: a search asks the PRM to rank sibling steps that differ in one small way: "48 + 87 = 135" against
"48 + 87 = 125". Among the policy's own wrong siblings (siblings.mjs) four in five are arithmetic
slips, mostly near misses of the right result, and most of the rest copy an operand wrong. So for each
of `--n` fresh training problems one step i is drawn and made wrong, with weights: the result a near
miss (near_miss: a low digit changed, length kept) 45, another digit slip (digit_slip:
off by 1/10/100, a digit changed, dropped or doubled) 15, an operand copied wrong 25, the running value
copied wrong 7, the wrong operation 8 (these three compute the result for what they copied, and then
slip it too 40% of the time), or, for the answer step, a wrong boxed number. The right solution is kept
alongside, cut after step i half of the time. Half of the wrong rows stop at the slip; the other half
continue to the end from the wrong value, computing every later step right, so that the PRM learns that
a step carrying an earlier error forward is wrong too (the checker judges every step against the true
running values). Labels come from the package's exact checker with the prefix rule (a step is good iff
it and every step before it are right), never from how a row was made.

Writes tools/train/work/prm-negatives-train.jsonl, rows {"problem", "level", "steps", "labels"}, and
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


def near_miss(n: int, rng: random.Random) -> int | None:
    """n with one of its last three digits changed (mostly by one), its length kept: the slips the
    policy makes when it loses a carry ("48 + 87 = 125"), which length changes do not teach."""
    s = str(n)
    i = len(s) - 1 - rng.choices(range(min(3, len(s))), weights=(4, 4, 2)[: min(3, len(s))])[0]
    d = int(s[i])
    new = (d + rng.choice((-1, 1))) % 10 if rng.random() < 0.6 else rng.choice([x for x in range(10) if x != d])
    if i == 0 and new == 0 and len(s) > 1:
        return None
    return int(s[:i] + str(new) + s[i + 1 :])


def slip_step(a: int, op: str, b: int, c: int, rng: random.Random) -> tuple[int, str, int, int] | None:
    """A wrong version (a, op, b, shown result) of the equation a op b = c, or None for an unusable draw."""
    kind = rng.choices(["near", "digit", "operand", "previous", "operation"], [45, 15, 25, 7, 8])[0]
    if kind in ("near", "digit"):
        wrong = (near_miss if kind == "near" else digit_slip)(c, rng)
        return None if wrong is None or wrong == c else (a, op, b, wrong)
    if kind == "operation":
        op = rng.choice([o for o in OPS if o != op])
    elif kind == "operand":
        b = near_miss(b, rng) if rng.random() < 0.5 else digit_slip(b, rng)
    else:
        a = near_miss(a, rng) if rng.random() < 0.5 else digit_slip(a, rng)
    if a is None or b is None or b == 0:
        return None
    value = OPS[op](a, b)
    if value is None or value < 0:
        return None
    if rng.random() < 0.4:
        slipped = near_miss(value, rng)
        if slipped is not None:
            value = slipped
    return (a, op, b, value)


def build(records: list[dict], rng: random.Random) -> list[dict]:
    items = []
    for r in records:
        steps = common.split_steps(r["solution"])
        eqs = [STEP.match(s) for s in steps]
        i = rng.randrange(len(steps))
        wrong = None
        for _ in range(6):
            if eqs[i]:
                a, op, b, c = int(eqs[i].group(1)), eqs[i].group(2), int(eqs[i].group(3)), int(eqs[i].group(4))
                w = slip_step(a, op, b, c, rng)
                if w:
                    wrong = w
                    break
            else:
                w = digit_slip(int(ANSWER.match(steps[i]).group(1)), rng)
                if w is not None:
                    wrong = ("answer", w)
                    break
        items.append((r, steps[: i + 1] if rng.random() < 0.5 else steps))
        if wrong is None:
            continue
        if wrong[0] == "answer":
            items.append((r, steps[:i] + [f"The answer is \\boxed{{{wrong[1]}}}."]))
            continue
        a, op, b, value = wrong
        bad = steps[:i] + [f"{a} {op} {b} = {value}"]
        if rng.random() < 0.5:  # carry the wrong value to the end
            ok = True
            for m in eqs[i + 1 :]:
                if not m:
                    break
                op2, b2 = m.group(2), int(m.group(3))
                nxt = OPS[op2](value, b2)
                if nxt is None or nxt < 0:
                    ok = False
                    break
                bad.append(f"{value} {op2} {b2} = {nxt}")
                value = nxt
            if ok:
                bad.append(f"The answer is \\boxed{{{value}}}.")
        items.append((r, bad))
    checked = common.check([(r["structured"], common.STEP_SEPARATOR.join(steps)) for r, steps in items])
    rows = []
    for (r, steps), res in zip(items, checked):
        if len(res["steps"]) != len(steps):
            continue
        labels, ok = [], True
        for s in res["steps"]:
            ok = ok and s["correct"]
            labels.append(int(ok))
        rows.append({"problem": r["problem"], "level": r["level"], "steps": steps, "labels": labels})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", default=os.path.join(common.WORK, "big", "train.jsonl"))
    parser.add_argument("--n", type=int, default=150000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    log = common.RunLog("prm-negatives", vars(args))
    rng = random.Random(args.seed)
    records = common.read_jsonl(args.problems)
    rng.shuffle(records)
    rows = build(records[: args.n], rng)
    common.write_jsonl(os.path.join(common.WORK, "prm-negatives-train.jsonl"), rows)
    labels = collections.Counter(label for r in rows for label in r["labels"])
    log.set(rows=len(rows), good_steps=labels[1], bad_steps=labels[0])
    log.event("written", rows=len(rows), good_steps=labels[1], bad_steps=labels[0])
    print("log:", log.write())


if __name__ == "__main__":
    main()
