#!/usr/bin/python3
"""Write the model cards (models/<name>/README.md) and models/README.md from the run logs, so every
number in a card is the one a run measured.

Usage: /usr/bin/python3 tools/train/cards.py
Reads tools/train/logs/{policy-small,policy-large,prm-data,prm,verify-*}.json.
"""

import json
import os

import common

LEVEL_NAMES = {"1": "1-2 ops, <100", "2": "2-3 ops, <500", "3": "3-4 ops, <2000", "4": "4-5 ops, <5000", "5": "5-7 ops, <10000"}


def load(name: str) -> dict | None:
    path = os.path.join(common.LOGS, f"{name}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def size_mb(model_dir: str) -> float:
    return os.path.getsize(os.path.join(model_dir, "model.safetensors")) / 1e6


def accuracy_table(greedy: dict, sampled: dict) -> str:
    lines = ["| level | problems | greedy solved | greedy answer | T=0.8 solved | T=0.8 answer |", "|---|---|---|---|---|---|"]
    for lv in sorted(greedy):
        g, s = greedy[lv], sampled.get(lv, {})
        lines.append(f"| {lv} ({LEVEL_NAMES[lv]}) | {g['n']} | {g['solved']:.1%} | {g['answer']:.1%} | "
                     f"{s.get('solved', float('nan')):.1%} | {s.get('answer', float('nan')):.1%} |")
    return "\n".join(lines)


def arch_line(spec: dict, params: int) -> str:
    return (f"{params:,} parameters: hidden {spec['hidden']}, {spec['layers']} layers, {spec['heads']} attention heads "
            f"over {spec['kv_heads']} KV heads (head_dim {spec['hidden'] // spec['heads']}), intermediate {spec['intermediate']}, "
            f"vocab {spec['vocab']}, RMSNorm eps {spec['eps']}, RoPE theta {spec['rope_theta']:.0f}, "
            f"max positions {spec['max_positions']}")


def verify_line(name: str) -> str:
    v = load(f"verify-{name}")
    if v is None:
        return "not verified yet (run tools/train/verify.py)"
    parts = [f"logits vs tools/fixtures/reference.py max |diff| {v['logits_max_abs_diff']:.2e}"]
    if "kv_cache_greedy_equal" in v:
        parts.append(f"KV-cached greedy = full-recompute greedy on {v['kv_cache_greedy_equal']} prompts")
    parts.append(f"@huggingface/tokenizers ids = Python ids on {v['js_tokenizer']}")
    return "; ".join(parts)


COMMON_FILES = """Files: `config.json` and `generation_config.json` (as transformers writes them, keys sorted),
`model.safetensors` (bf16), `tokenizer.json` + `tokenizer_config.json` (the shared 512-id byte-level
BPE: digits are never merged, specials `<|endoftext|>` 508, `<|im_start|>` 509, `<|im_end|>` 510,
`<extra_0>` 511; ChatML `chat_template` without a default system turn). The three demo models share
this tokenizer."""


def stage_lines(stages: list[dict]) -> str:
    lines = []
    for i, log in enumerate(stages, 1):
        s = log["settings"]
        first, last = log["losses"][0], log["losses"][-1]
        init = f"grown from `{s['init_from']}`" if s.get("init_from") else "random init (N(0, 0.02), residual outputs / sqrt(2 layers))"
        if s.get("init_from") and stages[0] is not log and s["size"] == stages[0]["settings"]["size"]:
            init = f"continued from stage {i - 1}'s weights (fresh optimizer)"
        curriculum = f", easy-to-hard curriculum (noise {s['curriculum']})" if s.get("curriculum") else ", random batch order"
        keep = "" if s.get("keep", "1,1,1,1,1") == "1,1,1,1,1" else f", train records kept per level {s['keep']}"
        lines.append(
            f"| {i} | {init} | {s['steps']} x ~{s['batch_tokens']} tokens{curriculum}{keep} | {s['lr']} (warmup {s['warmup']}, cosine to 10%) | "
            f"{s['seed']} | {log.get('tokens_seen', 0):,} | {first['loss']} -> {last['smooth']} | {log.get('train_seconds', 0) / 60:.1f} min |")
    head = ("| stage | start | batches | peak lr | seed | tokens | loss (start -> end, smoothed) | wall time |\n"
            "|---|---|---|---|---|---|---|---|\n")
    return head + "\n".join(lines)


def stage_commands(stages: list[dict], out: str) -> str:
    cmds = []
    for log in stages:
        s = log["settings"]
        parts = [f"tools/train/py tools/train/train_policy.py --size {s['size']} --out {s.get('moved_to', s['out'])} --name {log['name']}"]
        if s.get("init_from"):
            parts.append(f"--init-from {s['init_from']}")
        parts.append(f"--steps {s['steps']} --batch-tokens {s['batch_tokens']} --warmup {s['warmup']} --lr {s['lr']} --seed {s['seed']}")
        if s.get("curriculum"):
            parts.append(f"--curriculum {s['curriculum']}")
        if s.get("keep", "1,1,1,1,1") != "1,1,1,1,1":
            parts.append(f"--keep {s['keep']}")
        cmds.append(" ".join(parts))
    last = stages[-1]["settings"]
    cmds.append(f"cp {last.get('moved_to', last['out'])}/* {out}/")
    return "\n".join(cmds)


def policy_card(title: str, stages: list[dict], evaluation: dict, out: str, verify_name: str, intro: str) -> str:
    spec = stages[-1]["settings"]["spec"]
    params = stages[-1]["settings"]["params"]
    total_tokens = sum(l.get("tokens_seen", 0) for l in stages)
    total_minutes = sum(l.get("train_seconds", 0) for l in stages) / 60
    data_events = [e for e in stages[0]["events"] if e["what"] == "data"]
    return f"""# thinktree demo {title}

A tiny LlamaForCausalLM trained by thinktree for its arithmetic word-problem task
(docs/tasks/arithmetic.md). It writes one equation per step, steps separated by a blank line, then
`The answer is \\boxed{{N}}.`, and ends with `<|im_end|>`. Not a general language model.
{intro}

## Architecture
LlamaForCausalLM, tied embeddings (no `lm_head.weight`), no rope scaling, full causal attention:
{arch_line(spec, params)}.

{COMMON_FILES}

## Prompt
```
<|im_start|>user
{{problem}}<|im_end|>
<|im_start|>assistant
```
(the chat template with `add_generation_prompt`). A quarter of the training examples also had the
system turn `Please reason step by step, and put your final answer within \\boxed{{}}.` first, so that
prompt works too. Stop on `<|im_end|>` (generation_config lists `[510, 508]`); steps end with `\\n\\n`.

## Training
Data: the train split from `node tools/train/gen_data.mjs --seed 2024` ({data_events[0]['examples'] if data_events else '?'} problems,
levels 1..5 weighted 6k/9k/12k/15k/18k), ChatML formatted, loss on the assistant part (solution and
`<|im_end|>`) only. AdamW (betas 0.9/0.98, weight decay 0.1 on matrices), grad clip 1.0,
length-bucketed batches of about the stated number of tokens (padding included), one CPU thread,
float32; saved in bf16. Trained in stages, each one run under ~25 minutes on a shared 2-core host:

{stage_lines(stages)}

In all: {total_tokens:,} tokens processed in {total_minutes:.1f} minutes of training. Logs:
{", ".join(f"`tools/train/logs/{l['name']}.json`" for l in stages)}. Commands:
```sh
{stage_commands(stages, out)}
```

## Accuracy (test split, evaluated from the saved bf16 file)
"Solved" = every step and the final answer correct by the package's exact checker; "answer" = final
answer correct. T=0.8: one sample per problem (seed {evaluation['settings']['seed']}), no top-p/top-k. First
{evaluation['settings']['per_level']} (greedy) / {evaluation['settings']['sampled_per_level']} (sampled) problems of each
`models/data/test-level-L.jsonl` (`tools/train/logs/eval-{os.path.basename(out)}.json`).

{accuracy_table(evaluation['greedy'], evaluation['sampled_t08'])}

## Verification
{verify_line(verify_name)}.
"""


# The log of the PRM shipped in models/prm (train_prm.py --name), and the runs it continued from.
PRM_LOG = "prm-v2"


def prm_chain(name: str) -> list[dict]:
    """The shipped PRM's log and those of the checkpoints it was initialised from, oldest first."""
    chain = []
    while (log := load(name)) is not None:
        chain.insert(0, {**log, "file": name})
        init = os.path.basename(os.path.normpath(log["settings"]["init"]))
        # prm-v2 continued the first PRM while it sat in models/prm; the README keeps that one as prm-v1.
        name = "prm-v1" if log["settings"]["init"] == "models/prm" else init if init.startswith("prm-") else ""
    return chain


def prm_training_lines(log: dict) -> str:
    lines = []
    for run in prm_chain(log["name"]):
        s = run["settings"]
        first, last = run["losses"][0], run["losses"][-1]
        data = s.get("data", "prm-train.jsonl")
        extra = []
        if s.get("lm_weight"):
            extra.append(f"plus {s['lm_weight']} x next-token loss on right solutions through the tied embeddings")
        if s.get("backbone_lr_scale", 1.0) != 1.0:
            extra.append(f"backbone lr {s['backbone_lr_scale']} x the head's")
        lines.append(
            f"- `{run['file']}`: from `{s['init']}`{' (prm-v1, then in models/prm)' if s['init'] == 'models/prm' else ''}, on `{data}`: {s['steps']} AdamW steps of about {s['batch_tokens']} tokens, "
            f"peak lr {s['lr']}, {s['warmup']} warmup then cosine to 10%, weight decay {s['weight_decay']}, seed {s['seed']}"
            f"{'; ' + '; '.join(extra) if extra else ''}. {run.get('tokens_seen', 0):,} tokens, "
            f"{run.get('train_seconds', 0) / 60:.1f} min; loss {first['loss']} at step 0, {last['smooth']} smoothed at the end "
            f"(`tools/train/logs/{run['file']}.json`).")
    lines.append("- A policy backbone starts with q/k/v biases at 0 and a new head; float32 training, saved in bf16.")
    return "\n".join(lines)


def negatives_line(log: dict) -> str:
    if "negatives" not in log["settings"].get("data", ""):
        return ""
    neg = load("prm-negatives")
    return (f"- Local hard negatives (`tools/train/prm_negatives.py`, {neg['train_rows']} rows): for train problems, the "
            "reference solution cut after a random step, once with that step right and once with one slip of the kinds "
            "the policy makes (a result digit off by 1, 10 or 100, changed, dropped or doubled; an operand miscopied from "
            "the problem or the previous result, the result then computed for it; the wrong operation; a wrong boxed "
            "answer), each labelled by the checker, not by construction.\n")


def sibling_lines(h: dict) -> str:
    sib = h.get("siblings")
    if not sib:
        return ""
    cells = " / ".join(f"{sib[lv]['right_above_wrong']:.0%}" for lv in ("1", "2", "3", "4", "5") if lv in sib)
    return (f"\nSibling ranking (what beam search asks of a PRM): on {sib['all']['pairs']} calibration-problem pairs of a right "
            f"step and a one-slip wrong step after the same right prefix (`prm_negatives.py`), the right step scores higher "
            f"{sib['all']['right_above_wrong']:.1%} of the time (levels 1-5: {cells}).\n")


def prm_card(log: dict, data: dict) -> str:
    s = log["settings"]
    spec = s["spec"]
    h = log["heldout"]
    first, last = log["losses"][0], log["losses"][-1]
    rows = ["| level | held-out steps | good | accuracy @0.5 | AUC |", "|---|---|---|---|---|"]
    for lv, v in h["by_level"].items():
        rows.append(f"| {lv} | {v['steps']} | {v['good']} | {v['accuracy']:.1%} | {'n/a' if v['auc'] is None else format(v['auc'], '.3f')} |")
    a = h["all"]
    rows.append(f"| all | {a['steps']} | {a['good']} | {a['accuracy']:.1%} | {'n/a' if a['auc'] is None else format(a['auc'], '.3f')} |")
    b = h["best_of_k"]
    samples = [e for e in data["events"] if e["what"] == "train-samples"][0]
    sample_rows = ["| level | policy samples (unique) | solved | good steps / steps |", "|---|---|---|---|"]
    for lv, v in samples["per_level"].items():
        sample_rows.append(f"| {lv} | {v['samples']} | {v['solved']:.1%} | {v['good_steps']} / {v['steps']} |")
    return f"""# thinktree demo PRM

A tiny process reward model in the layout of Qwen/Qwen2.5-Math-PRM-7B, trained by thinktree for its
arithmetic task: it scores every step of a solution written by the demo policy (`models/policy`).

## Architecture
`Qwen2ForProcessRewardModel` (`model_type: "qwen2"`, `auto_map` as the published config): a Qwen2
backbone under `model.` (q/k/v biases, untied, no `lm_head`) and the head `score.0` Linear(h, h) ->
ReLU -> `score.2` Linear(h, 2). {arch_line(spec, s['params'])}.
Reward of a step = softmax(score logits)[1] at its `<extra_0>` token.

{COMMON_FILES}

## Input format (as on the Qwen2.5-Math-PRM card)
```
<|im_start|>system
Please reason step by step, and put your final answer within \\boxed{{}}.<|im_end|>
<|im_start|>user
{{problem}}<|im_end|>
<|im_start|>assistant
{{step 1}}<extra_0>{{step 2}}<extra_0>...{{step n}}<extra_0><|im_end|>
```
Steps are the pieces of the solution split on `"\\n\\n"`, trimmed (the separators are not in the
input). Attention is causal, so the reward of step i depends only on the text up to its `<extra_0>`:
a search can score a new step by extending a cached prefix.

## Training data and labels
- The small policy's own samples at temperature 0.8: {data['settings']['per_level']} train problems per level,
  {data['settings']['k']} samples each, duplicates per problem removed, plus the reference solution of each
  problem (all steps good). Labelled with the package's exact checker (`checkSolution`).
- Label rule (Math-Shepherd style prefix correctness): a step is good iff the checker marks it and
  every earlier step correct. The checker already judges each step against the true running value,
  so a step that carries a slip forward is wrong by itself; the prefix rule also makes a step that
  happens to return to the true value after an error bad, since the path holding it is already wrong.
  With this rule the last step's reward estimates P(solved), which is what search ranks by.
{negatives_line(log)}- {log['events'][0]['rows']} sequences, {log['events'][0]['steps']} labelled steps ({log['events'][0]['good']} good,
  {log['events'][0]['bad']} bad); the cross-entropy weights the two classes to balance them
  ({[round(w, 3) for w in log['events'][0]['class_weight']]}).

{chr(10).join(sample_rows)}

## Training
{prm_training_lines(log)}

## Held-out accuracy
Policy samples (T=0.8, {data['settings']['k']} per problem) on the {b['problems']} calibration problems, which no
model trained on, evaluated from the saved bf16 file:

{chr(10).join(rows)}

Best-of-{data['settings']['k']} on the same problems (solved rate of the chosen sample): PRM last-step reward
{b['prm_last']:.1%}, PRM min-step reward {b['prm_min']:.1%}, a random sample {b['random_sample']:.1%}, oracle
(any sample solved) {b['oracle']:.1%}.
{sibling_lines(h)}
## Verification
{verify_line('prm')}.
"""


def write_index() -> None:
    """models/README.md: what is here, sizes, and the headline numbers."""
    rows = ["| directory | architecture | parameters | file | greedy solved L1 / L2 / L3 / L4 / L5 |", "|---|---|---|---|---|"]
    for d in ("policy", "policy-large"):
        e = load(f"eval-{d}")
        if e and os.path.exists(os.path.join(common.MODELS, d, "model.safetensors")):
            acc = " / ".join(f"{e['greedy'][lv]['solved']:.0%}" for lv in sorted(e["greedy"]))
            rows.append(f"| `{d}/` | LlamaForCausalLM | {e['params']:,} | {size_mb(os.path.join(common.MODELS, d)):.1f} MB bf16 | {acc} |")
    prm = load(PRM_LOG)
    if prm and os.path.exists(os.path.join(common.MODELS, "prm", "model.safetensors")):
        a = prm["heldout"]["all"]
        rows.append(f"| `prm/` | Qwen2ForProcessRewardModel | {prm['settings']['params']:,} | "
                    f"{size_mb(os.path.join(common.MODELS, 'prm')):.1f} MB bf16 | held-out step accuracy {a['accuracy']:.0%}, AUC {a['auc']} |")
    text = f"""# Demo models

Tiny models thinktree trained for its arithmetic word-problem task (docs/tasks/arithmetic.md), in
Hugging Face layouts the engine loads. Each directory has config.json, generation_config.json,
model.safetensors (bf16), tokenizer.json, tokenizer_config.json and a model card (README.md). The
three models share one 512-id byte-level BPE tokenizer.

{chr(10).join(rows)}

Greedy accuracy: fraction of the first problems of each test level solved with every step correct
(see each card for the counts and the T=0.8 numbers).

`data/`: the test split (500 problems per level, `test-level-L.jsonl`) and the calibration split (100
per level, `calibration.jsonl`) the cards report on; the train split is regenerated by seed
(`tools/train/README.md`). How every file was made: `tools/train/README.md`.
"""
    with open(os.path.join(common.MODELS, "README.md"), "w") as f:
        f.write(text)


def stages_named(prefix: str) -> list[dict]:
    names = sorted(f[:-5] for f in os.listdir(common.LOGS) if f.startswith(prefix) and f.endswith(".json"))
    logs = [load(n) for n in names]
    for n, log in zip(names, logs):
        log["name"] = n  # the file name is the stage's name
    return logs


def main() -> None:
    small = stages_named("policy-small-stage")
    large = stages_named("policy-large-stage")
    prm, data = load(PRM_LOG), load("prm-data")
    if small and load("eval-policy"):
        text = policy_card("policy (small)", small, load("eval-policy"), "models/policy", "policy",
                           "The small policy of the demo: good on levels 1-2, slips on the long chains of levels 3-5, "
                           "which is what search with the PRM (`models/prm`) is for.")
        with open(os.path.join(common.MODELS, "policy", "README.md"), "w") as f:
            f.write(text)
    if large and load("eval-policy-large"):
        grown = [e for e in large[0]["events"] if e["what"] == "grown"]
        intro = ("The 14x larger policy of the demo, for compute-matched comparisons (a small model with search vs a "
                 "bigger model without). It was not trained from scratch: it was initialised by function-preserving "
                 f"growth of `{large[0]['settings']['init_from']}` (tools/train/grow.py: the small weights embedded in the "
                 "wider, deeper tensors; new residual dimensions, heads, MLP units and layers read with random weights "
                 "but write through zeros; norm weights rescaled by sqrt(160/400); logits at init within "
                 f"{grown[0]['max_abs_logit_change'] if grown else '?'} of the small model's), then trained further. "
                 "Training it from scratch costs about 10x the small model's CPU time per token.")
        text = policy_card("policy (large, 14x)", large, load("eval-policy-large"), "models/policy-large", "policy-large", intro)
        with open(os.path.join(common.MODELS, "policy-large", "README.md"), "w") as f:
            f.write(text)
    if prm and data:
        with open(os.path.join(common.MODELS, "prm", "README.md"), "w") as f:
            f.write(prm_card(prm, data))
    write_index()
    print("cards written")


if __name__ == "__main__":
    main()
