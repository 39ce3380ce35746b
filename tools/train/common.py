"""Shared constants and small helpers of the training tools: paths, prompt formats, JSONL, the checker
bridge, determinism and logging. Every other script in tools/train imports this first.
"""

import gzip
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORK = os.path.join(HERE, "work")
LOGS = os.path.join(HERE, "logs")
MODELS = os.path.join(ROOT, "models")
DATA = os.path.join(MODELS, "data")
for p in (os.path.join(ROOT, "tools", "tokenizer"), os.path.join(ROOT, "tools", "fixtures"), HERE):
    if p not in sys.path:
        sys.path.insert(0, p)

LEVELS = (1, 2, 3, 4, 5)
STEP_SEPARATOR = "\n\n"
PRM_STEP_TOKEN = "<extra_0>"
# Qwen2.5-Math's system prompt; the PRM card formats every input with it.
MATH_SYSTEM_PROMPT = "Please reason step by step, and put your final answer within \\boxed{}."


def chatml(messages: list[tuple[str, str]], generation_prompt: bool = False) -> str:
    """ChatML exactly as the chat_template in tokenizer_config.json renders it (no default system turn)."""
    text = "".join(f"<|im_start|>{role}\n{content}<|im_end|>\n" for role, content in messages)
    return text + ("<|im_start|>assistant\n" if generation_prompt else "")


def policy_prompt(problem: str, system: bool = False) -> str:
    """What the policy sees before it writes the solution: the user turn and the assistant header."""
    turns = [("system", MATH_SYSTEM_PROMPT)] if system else []
    return chatml(turns + [("user", problem)], generation_prompt=True)


def prm_text(problem: str, steps: list[str]) -> str:
    """The Qwen2.5-Math-PRM input: system, user = problem, assistant = steps each followed by <extra_0>."""
    assistant = "".join(s + PRM_STEP_TOKEN for s in steps)
    return chatml([("system", MATH_SYSTEM_PROMPT), ("user", problem), ("assistant", assistant)])


def split_steps(solution: str) -> list[str]:
    """The PRM's steps: the solution cut at the step separator, blank pieces dropped, each trimmed
    (the checker trims the same way, so step i here is the checker's step i)."""
    return [p.strip() for p in solution.split(STEP_SEPARATOR) if p.strip()]


def test_records_of(level: int) -> list[dict]:
    """The shipped test split of one level (models/data/test-level-L.jsonl.gz, written by gen_data.mjs)."""
    return read_jsonl(os.path.join(DATA, f"test-level-{level}.jsonl.gz"))


def read_jsonl(path: str) -> list[dict]:
    """Rows of a JSONL file; `.gz` files (models/data ships gzipped) are decompressed."""
    with (gzip.open(path, "rt", encoding="utf-8") if path.endswith(".gz") else open(path, encoding="utf-8")) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path: str, rows: list[dict]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def check(items: list[tuple[dict, str]]) -> list[dict]:
    """Label solutions with the package's exact checker (tools/train/check.mjs, compiled TypeScript).

    items: (structured problem, solution text) pairs. Returns one dict per item: solved, answerCorrect,
    firstError, steps [{start, end, kind, correct, reasons}].
    """
    if not items:
        return []
    payload = "".join(json.dumps({"structured": s, "text": t}) + "\n" for s, t in items)
    done = subprocess.run(
        ["node", os.path.join(HERE, "check.mjs")], input=payload, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"check.mjs failed ({done.returncode}): {done.stderr.strip()}")
    out = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    if len(out) != len(items):
        raise RuntimeError(f"check.mjs answered {len(out)} lines for {len(items)} items")
    return out


def seed_everything(seed: int) -> None:
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class RunLog:
    """Collects a run's settings, losses and measurements; written to tools/train/logs/<name>.json."""

    def __init__(self, name: str, settings: dict):
        self.name = name
        self.start = time.time()
        self.doc = {"name": name, "settings": settings, "losses": [], "events": []}

    def elapsed(self) -> float:
        return time.time() - self.start

    def loss(self, step: int, **values) -> None:
        self.doc["losses"].append({"step": step, "t": round(self.elapsed(), 1), **values})

    def event(self, what: str, **values) -> None:
        entry = {"t": round(self.elapsed(), 1), "what": what, **values}
        self.doc["events"].append(entry)
        print(json.dumps(entry), flush=True)

    def set(self, **values) -> None:
        self.doc.update(values)

    def write(self) -> str:
        self.doc["wall_seconds"] = round(self.elapsed(), 1)
        os.makedirs(LOGS, exist_ok=True)
        path = os.path.join(LOGS, f"{self.name}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.doc, f, indent=1)
            f.write("\n")
        return path
