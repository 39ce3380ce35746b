#!/usr/bin/python3
"""Write the model cards (models/<name>/README.md) and models/README.md from the run logs, so every
number in a card is the one a run measured.

Usage: /usr/bin/python3 tools/train/cards.py
Reads tools/train/logs/{policy-small-stage*,policy-large-stage*,eval-*,prm-arith-d,prm-v7,prm-v9a,prm-v10,
prm-v11,prm-v12,prm-v18,prm-negatives,prm-siblings-rank-v18,operand-twins-v18,verify-*}.json.
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
`models/data/test-level-L.jsonl.gz` (`tools/train/logs/eval-{os.path.basename(out)}.json`).

{accuracy_table(evaluation['greedy'], evaluation['sampled_t08'])}

## Verification
{verify_line(verify_name)}.
"""


# The logs of the PRM shipped in models/prm: its arithmetic pretraining (arith_pretrain.py) and the
# training runs on steps that followed it, each continuing the one before (train_prm.py --name).
ARITH_LOG = "prm-arith-d"
PRM_LOGS = ("prm-v7", "prm-v9a", "prm-v10", "prm-v11", "prm-v12", "prm-v18")
SIBLINGS_LOG = "prm-siblings-rank-v18"
TWINS_LOG = "operand-twins-v18"
OPS = ("+", "-", "*", "/")


def schedule(s: dict) -> str:
    return (f"peak lr {s['lr']}, {s['warmup']} warmup steps then cosine to 10%, weight decay {s['weight_decay']}, "
            f"seed {s['seed']}")


def arith_lines(arith: dict) -> str:
    s, h = arith["settings"], arith["heldout_final"]
    ops = ", ".join(f"`{op}` {h['near_judge'][op]:.1%}" for op in OPS)
    return (f"1. Arithmetic of its own (`tools/train/arith_pretrain.py`, log `tools/train/logs/{arith['name']}.json`): "
            f"the small policy's 4 layers plus {s['add_layers']} new ones on top (reading with random weights, writing "
            "through zeros, so the start is the policy's function), trained on packed equations of the training "
            f"solutions ({s['problems'].split('/')[-2]}/train.jsonl), each right or with a one-slip result "
            f"({s['near_miss']:.0%} of the slips near misses: length kept, one of the last three digits changed, as the "
            "policy's carry slips are), judged at the `<extra_0>` after it, plus a next-token loss on right results. "
            f"{s['steps']} AdamW steps of {s['rows']} rows x {s['length']} tokens, {schedule(s)}; "
            f"{arith['wall_seconds'] / 60:.0f} min wall time. On 3,000 held-out equations of the test problems it "
            f"verifies near misses {h['near_judge']['all']:.1%} right ({ops}) and writes the right result "
            f"{h['exact']['all']:.1%} of the time: checking is easier than computing, and the depth the policy lacks "
            "is what makes it so." + unseen_line())


def unseen_line() -> str:
    """What the held-out check above measures (heldout_unseen.py's log), when that log exists."""
    log = load("heldout-unseen-equations")
    if log is None:
        return ""
    overlap = next(e for e in log["events"] if e["what"] == "overlap")
    seen = overlap["published_in_train"] / overlap["published_heldout"]
    return (f" Those equations come from held-out problems, but {seen:.1%} of them occur word for word among the "
            "training problems' equations; on the test equations that occur in none "
            f"({overlap['unseen_measured']:,}, nearly all `+` and `-`) the shipped PRM judges "
            f"{log['unseen']['near_judge']['all']:.1%} right (`tools/train/heldout_unseen.py`, log "
            "`tools/train/logs/heldout-unseen-equations.json`; docs/results.md).")


def equation_source(s: dict) -> str:
    """Which packed equations a train_prm.py run mixed in (its --equation-problems, 0 = all)."""
    n = s["equation_problems"]
    return "of all levels" if not n else f"of the first {n:,} train problems (the file is sorted by level)"


def ranking_source(s: dict) -> str:
    """The listwise ranking batches of a train_prm.py run (its --rank-every, absent in older logs = never)."""
    k = s.get("rank_every", 0)
    return "" if not k else (f"one step in {k} of the others is a ranking batch instead: whole sibling states whose "
                             "candidates disagree, with a listwise loss on the last step's log-odds (the softmax mass on "
                             "the right candidates), the choice a beam search makes there; ")


def training_lines(logs: list[dict]) -> str:
    """Stage 2 onwards: each train_prm.py run, continued from the one before."""
    out = []
    for i, log in enumerate(logs):
        s, d = log["settings"], log["events"][0]
        last = log["losses"][-1]
        start = "the stage-1 checkpoint" if i == 0 else f"`{logs[i - 1]['name']}`'s f32 train state"
        if s.get("add_layers"):
            # prm-v18 started from the saved file (the f32 state was lost) and grew on top of it.
            start = (f"`{logs[i - 1]['name']}`'s saved bf16 weights with {s['add_layers']} new layers on top (reading "
                     "with random weights, writing through zeros, so its scores start unchanged)")
        out.append(
            f"{i + 2}. Steps in context (`tools/train/train_prm.py`, log `tools/train/logs/{log['name']}.json`), from {start}, "
            f"on {' + '.join(f'`{f}`' for f in s['data'].split(','))}: {d['rows']:,} sequences, {d['steps']:,} labelled "
            f"steps ({d['good']:,} good, {d['bad']:,} bad; the cross-entropy weights the classes to balance them), "
            f"{d['tokens']:,} tokens. {s['steps']} AdamW steps of about {s['batch_tokens']} tokens, {schedule(s)}; one step "
            f"in {s['equation_every']} is a batch of packed equations as in stage 1, {equation_source(s)}; "
            f"{ranking_source(s)}"
            f"{s['lm_weight']} x next-token loss on right steps through the tied embeddings. "
            f"{log['tokens_seen']:,} solution tokens, {log['train_seconds'] / 60:.0f} min on 2 cores; judge loss "
            f"{last['judge']} at the last logged step.")
    return "\n\n".join(out)


def data_lines() -> str:
    neg, twins = load("prm-negatives"), load(TWINS_LOG)
    return (f"- `prm-negatives-train.jsonl` (`tools/train/prm_negatives.py`, {neg['rows']:,} rows): for train problems, "
            "the reference solution up to a random step, then that step once right and once with one slip of the kinds "
            "the policy makes (a result digit changed, an operand miscopied from the problem or the previous "
            "result, the wrong operation, a slip in the boxed answer); half of the wrong rows go on from the wrong "
            "value, so later steps are judged in a wrong context too.\n"
            "- `siblings-train.jsonl`, `siblings-train-b.jsonl` and `siblings-train-c4a/c4/c5.jsonl` "
            "(`tools/train/siblings.mjs`): the policy's own candidates. Train problems (2,000 per level; levels 2-5, "
            "then 3-5 on the next 2,000, then levels 4 and 5 on 2,000 more each) are walked along a "
            "right path; at every state the engine samples 16 next steps at temperature 0.8, exactly as a search "
            "does, and each distinct candidate becomes a row (prefix + candidate).\n"
            f"- `siblings-train-twins.jsonl` and `siblings-train-c5-twins.jsonl` (`tools/train/operand_twins.py`, log "
            f"`tools/train/logs/{TWINS_LOG}.json`): the first and last of those sets, remade, with each state given one twin "
            f"of its right step whose operand is copied wrong ({twins['twins']:,} twins in {twins['states']:,} states, "
            f"{twins['newly_mixed']:,} of them newly mixed): the miscopied operands most of the earlier stages' wrong "
            "picks were.\n"
            "- Every step is labelled by the package's exact checker (`checkSolution`), never by construction: a step "
            "is good iff it and every step before it are right (Math-Shepherd's prefix rule with exact labels), so "
            "the reward of a step estimates whether the path can still be solved.")


def ranked(rank_log: dict) -> dict:
    """The per-level ranking prm_siblings.py measured for models/prm."""
    return next(e for e in rank_log["events"] if e["what"] == "ranked" and e["prm"] == "models/prm")


def sibling_table(rank: dict) -> str:
    rows = ["| level | mixed states | PRM top-1 right | PRM pairwise AUC | step majority top-1 right |", "|---|---|---|---|---|"]
    for lv in ("2", "3", "4", "5", "all"):
        if lv in rank:
            r = rank[lv]
            rows.append(f"| {lv} | {r['states']} | {r['top1']:.1%} | {r['auc']:.3f} | {r['step_majority']:.1%} |")
    return "\n".join(rows)


def prm_card(arith: dict, logs: list[dict], rank: dict) -> str:
    s = logs[-1]["settings"]
    return f"""# thinktree demo PRM

A tiny process reward model in the layout of Qwen/Qwen2.5-Math-PRM-7B, trained by thinktree for its
arithmetic task: it scores every step of a solution written by the demo policy (`models/policy`).

## Architecture
`Qwen2ForProcessRewardModel` (`model_type: "qwen2"`, `auto_map` as the published config): a Qwen2
backbone under `model.` (q/k/v biases, untied, no `lm_head`) and the head `score.0` Linear(h, h) ->
ReLU -> `score.2` Linear(h, 2). {arch_line(s['spec'], s['params'])}.
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

## Training
Initialised from the small policy's weights (q/k/v biases at 0, a new head); float32, saved in bf16.

{arith_lines(arith)}

{training_lines(logs)}

Data of the stages in context:
{data_lines()}

## Held-out: ranking the policy's own candidates
What beam search and DVTS ask of a PRM is to pick a right next step among the policy's samples. On the
calibration problems (no model trained on them), walked along right paths by `tools/train/siblings.mjs`
(16 engine samples per state), in the states whose candidates are mixed (some right, some wrong), from
the saved bf16 file (`tools/train/prm_siblings.py`, log `tools/train/logs/{SIBLINGS_LOG}.json`):

{sibling_table(rank)}

Step majority is what the policy's own vote picks without a PRM.

## Verification
{verify_line('prm')}.
"""


def write_index() -> None:
    """models/README.md: what is here, sizes, and the headline numbers."""
    rows = ["| directory | architecture | parameters | file | measured (policies: greedy solved L1 / L2 / L3 / L4 / L5) |", "|---|---|---|---|---|"]
    for d in ("policy", "policy-large"):
        e = load(f"eval-{d}")
        if e and os.path.exists(os.path.join(common.MODELS, d, "model.safetensors")):
            acc = " / ".join(f"{e['greedy'][lv]['solved']:.0%}" for lv in sorted(e["greedy"]))
            name = f"`{d}/`" + (" (repository only)" if d == "policy-large" else "")
            rows.append(f"| {name} | LlamaForCausalLM | {e['params']:,} | {size_mb(os.path.join(common.MODELS, d)):.1f} MB bf16 | {acc} |")
    prm, rank = load(PRM_LOGS[-1]), load(SIBLINGS_LOG)
    if prm and rank and os.path.exists(os.path.join(common.MODELS, "prm", "model.safetensors")):
        a = ranked(rank)["all"]
        rows.append(f"| `prm/` | Qwen2ForProcessRewardModel | {prm['settings']['params']:,} | "
                    f"{size_mb(os.path.join(common.MODELS, 'prm')):.1f} MB bf16 | picks a right step among the policy's "
                    f"samples {a['top1']:.0%} of the time (step majority {a['step_majority']:.0%}) |")
    text = f"""# Demo models

Tiny models thinktree trained for its arithmetic word-problem task (docs/tasks/arithmetic.md), in
Hugging Face layouts the engine loads. Each directory has config.json, generation_config.json,
model.safetensors (bf16), tokenizer.json, tokenizer_config.json and a model card (README.md). The
three models share one 512-id byte-level BPE tokenizer.

{chr(10).join(rows)}

Greedy accuracy: fraction of the first problems of each test level solved with every step correct
(see each card for the counts and the T=0.8 numbers).

`data/`: the test split (500 problems per level, `test-level-L.jsonl.gz`) and the calibration split (100
per level, `calibration.jsonl.gz`) the cards report on; the train split is regenerated by seed
(`tools/train/README.md`). How every file was made: `tools/train/README.md`.

`policy-large/` is in the repository only, not in the npm package (`package.json` `files`): only the
FLOPs-matched comparison of docs/results.md uses it. The package exports the paths of the others as
`demoModels` (`import {{ demoModels }} from 'thinktree'`).
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
    arith, rank = load(ARITH_LOG), load(SIBLINGS_LOG)
    prm = [load(n) for n in PRM_LOGS]
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
    if arith and all(prm) and rank:
        with open(os.path.join(common.MODELS, "prm", "README.md"), "w") as f:
            f.write(prm_card(arith, prm, ranked(rank)))
    write_index()
    print("cards written")


if __name__ == "__main__":
    main()
