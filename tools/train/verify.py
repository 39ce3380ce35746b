#!/usr/bin/python3
"""Check a saved model directory against independent code:

1. Logits: the training module loaded from the saved files vs tools/fixtures/reference.py's forward
   (written separately from the HF math) on test prompts. For the PRM, whose checkpoint has no LM head,
   the reference backbone runs with an identity head (so it returns the final-normed hidden states)
   and the score head is applied here in numpy-free plain torch.
2. KV cache (policies): greedy tokens from sampler.generate (cached, batched, left-padded) equal the
   reference's greedy decoding by full recompute.
3. Tokenizer: tools/train/tokenizer-check.mjs encodes the same texts with @huggingface/tokenizers (the
   package's tokenizer) and must produce the Python ids.

Usage: tools/train/py tools/train/verify.py models/policy [models/prm ...]
Writes tools/train/logs/verify-<dir name>.json and exits non-zero on a mismatch.
"""

import json
import os
import subprocess
import sys
import tempfile

import torch

import common
import model as M
import reference  # tools/fixtures
import sampler
import tokenizer as T

LOGIT_TOLERANCE = 2e-3


def reference_config(model_dir: str, prm: bool) -> "reference.Config":
    with open(os.path.join(model_dir, "config.json")) as f:
        raw = json.load(f)
    if prm:
        # reference.py knows the backbone as Qwen2ForCausalLM; give it an (untied) identity head.
        raw = {**raw, "architectures": ["Qwen2ForCausalLM"], "tie_word_embeddings": False, "vocab_size": raw["hidden_size"]}
    return reference.Config(raw)


def texts_for(records: list[dict], prm: bool) -> list[str]:
    if prm:
        return [common.prm_text(r["problem"], common.split_steps(r["solution"])) for r in records]
    return [common.policy_prompt(r["problem"]) + r["solution"] + "<|im_end|>" for r in records]


def main() -> None:
    torch.set_num_threads(1)
    failures = 0
    records = [common.test_records_of(lv)[0] for lv in common.LEVELS]
    for model_dir in sys.argv[1:]:
        module = M.load_pretrained(model_dir)
        prm = module.s.arch == "Qwen2ForProcessRewardModel"
        tok = T.load(model_dir)
        cfg = reference_config(model_dir, prm)
        weights = reference.load_weights(model_dir, torch.float32)
        if prm:
            weights["lm_head.weight"] = torch.eye(module.s.hidden)
        report = {"model": model_dir, "arch": module.s.arch, "params": M.count_params(module), "prompts": []}
        worst = 0.0
        texts = texts_for(records, prm)
        for text in texts:
            ids = tok.encode(text)
            ref = reference.forward(cfg, weights, ids)
            x, pos, valid = M.right_padded([ids], 0)
            with torch.no_grad():
                ours = module(x, pos, M.causal_mask(valid))[0]
                if prm:
                    s = module.score
                    ref = torch.relu(ref @ s[0].weight.T + s[0].bias) @ s[2].weight.T + s[2].bias
            diff = float((ours - ref).abs().max())
            worst = max(worst, diff)
            report["prompts"].append({"tokens": len(ids), "max_abs_diff": diff, "max_abs_value": float(ref.abs().max())})
        report["logits_max_abs_diff"] = worst
        if worst > LOGIT_TOLERANCE:
            failures += 1
        if not prm:
            prompts = [tok.encode(common.policy_prompt(r["problem"])) for r in records]
            stop = {tok.token("<|im_end|>")}
            cached = sampler.generate(module, prompts, 24, 0.0, stop, tok.token("<|endoftext|>"))
            same = 0
            for p, c in zip(prompts, cached):
                steps = len(c) if c[-1] not in stop else len(c) - 1
                full, _, _ = reference.greedy(cfg, weights, p, max(1, steps))
                same += full[: len(c)] == c[: len(full)]
            report["kv_cache_greedy_equal"] = f"{same}/{len(prompts)}"
            failures += same != len(prompts)
        # tokenizer parity with the package's JS tokenizer
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            cases = [{"text": t, "ids": tok.encode(t)} for t in texts + texts_for(records, not prm)]
            json.dump(cases, f)
        done = subprocess.run(["node", os.path.join(common.HERE, "tokenizer-check.mjs"), model_dir, f.name],
                              capture_output=True, text=True, cwd=common.ROOT)
        os.unlink(f.name)
        report["js_tokenizer"] = done.stdout.strip() or done.stderr.strip()
        failures += done.returncode != 0
        name = os.path.basename(os.path.normpath(model_dir))
        os.makedirs(common.LOGS, exist_ok=True)
        with open(os.path.join(common.LOGS, f"verify-{name}.json"), "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
        print(json.dumps({k: v for k, v in report.items() if k != "prompts"}))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
