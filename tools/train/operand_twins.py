#!/usr/bin/python3
"""Sibling states with operand-miscopy twins of their right step added as candidates.

Usage: tools/train/py tools/train/operand_twins.py --data siblings-train.jsonl,... [--per-state 1] [--seed 14]

Why: prm-v12's wrong top picks among the policy's own candidates are mostly (58 of 74 held out) a true
equation on an operand copied wrong from the problem: "8792 + 81 = 8873" where the problem says 181,
"79 - 14 = 65" for 41. Such a step passes every arithmetic check the PRM has practised; only reading
the problem again tells it apart. The policy makes this slip in a few of its 16 samples of a state, so
the sibling sets hold few such contrasts. This adds up to `--per-state` twins of each state's first
right step: the operand the step copies from the problem (for a first step, either operand) with a
digit dropped, doubled or changed, two adjacent digits swapped, or another number of the problem put
in its place; the result computed right for the miscopied operand (70%) or then slipped (near miss).
Labels come from the package's exact checker on prefix + twin (problems are looked up by text in
tools/train/work/big/train.jsonl for their structured form), never from how a twin was made; a twin
the checker calls right is dropped.

Writes each input FILE.jsonl as FILE-twins.jsonl in tools/train/work/ (same states, candidates added),
and tools/train/logs/operand-twins.json.
"""

import argparse
import json
import os
import random
import re

import common
from prm_negatives import OPS, STEP, digit_slip, near_miss

NUMBER = re.compile(r"\d+")


def miscopy(n: int, problem_numbers: list[int], rng: random.Random) -> int | None:
    """n as a copy slip makes it: a digit slip, two adjacent digits swapped, or another number of the problem."""
    s = str(n)
    kind = rng.choices(["slip", "swap", "other"], [5, 3, 2])[0]
    if kind == "swap" and len(s) > 1:
        i = rng.randrange(len(s) - 1)
        if i == 0 and s[1] == "0":  # would lead with a zero
            return None
        out = int(s[:i] + s[i + 1] + s[i] + s[i + 2:])
    elif kind == "other":
        others = [m for m in problem_numbers if m != n]
        out = rng.choice(others) if others else None
    else:
        out = digit_slip(n, rng) if rng.random() < 0.6 else near_miss(n, rng)
    return out if out is not None and out > 0 and out != n else None


def twins(state: dict, per_state: int, rng: random.Random) -> list[str]:
    """Up to `per_state` distinct miscopied versions of the state's first right step not already among its candidates."""
    m = next((m for c in state["candidates"] if c["correct"] and (m := STEP.match(c["step"]))), None)
    if m is None:
        return []
    a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
    numbers = [int(x) for x in NUMBER.findall(state["problem"])]
    have = {c["step"] for c in state["candidates"]}
    out: list[str] = []
    for _ in range(per_state * 8):
        if len(out) == per_state:
            break
        x, y = a, b
        if not state["prefix"] and rng.random() < 0.5:
            x = miscopy(a, numbers, rng)
        else:
            y = miscopy(b, numbers, rng)
        if x is None or y is None:
            continue
        value = OPS[op](x, y)
        if value is None or value < 0:
            continue
        if rng.random() < 0.3:
            value = near_miss(value, rng)
            if value is None:
                continue
        step = f"{x} {op} {y} = {value}"
        if step not in have and step not in out:
            out.append(step)
    return out


def structured_by_problem(path: str, wanted: set[str]) -> dict[str, dict]:
    found = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["problem"] in wanted:
                found[r["problem"]] = r["structured"]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="comma-separated siblings.mjs files in tools/train/work/")
    parser.add_argument("--problems", default=os.path.join(common.WORK, "big", "train.jsonl"))
    parser.add_argument("--per-state", type=int, default=1)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    log = common.RunLog("operand-twins", vars(args))

    files = {name: common.read_jsonl(os.path.join(common.WORK, name)) for name in args.data.split(",")}
    wanted = {st["problem"] for states in files.values() for st in states}
    structured = structured_by_problem(args.problems, wanted)
    missing = wanted - structured.keys()
    if missing:
        raise SystemExit(f"{len(missing)} sibling problems are not in {args.problems}, e.g. {next(iter(missing))!r}")

    # dropped: twins the checker calls right, or whose step it does not find
    totals = {"states": 0, "twins": 0, "dropped": 0, "newly_mixed": 0}
    for name, states in files.items():
        made = [(st, t) for st in states for t in twins(st, args.per_state, rng)]
        checked = common.check([(structured[st["problem"]], common.STEP_SEPARATOR.join(st["prefix"] + [t]))
                                for st, t in made])
        added: dict[int, list[dict]] = {}
        for (st, t), res in zip(made, checked):
            last = res["steps"][len(st["prefix"])] if len(res["steps"]) > len(st["prefix"]) else None
            if last is None or last["correct"]:
                totals["dropped"] += 1
                continue
            added.setdefault(id(st), []).append({"step": t, "correct": False, "reasons": last["reasons"], "twin": True})
        out = []
        for st in states:
            extra = added.get(id(st), [])
            if extra and all(c["correct"] for c in st["candidates"]):
                totals["newly_mixed"] += 1
            out.append({**st, "candidates": st["candidates"] + extra})
        n_twins = sum(len(v) for v in added.values())
        totals["twins"] += n_twins
        totals["states"] += len(states)
        target = os.path.join(common.WORK, name.removesuffix(".jsonl") + "-twins.jsonl")
        common.write_jsonl(target, out)
        print(f"{name}: {len(states)} states, {n_twins} twins -> {target}")
    log.set(**totals)
    log.write()
    print(totals)


if __name__ == "__main__":
    main()
