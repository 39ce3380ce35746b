#!/bin/sh
# Two-iteration Thought Preference Optimization runs of docs/tpo.md on the shipped policy.
#   tools/train/tpo.sh                 the paper's loop with the DPO loss alone (run name tpo)
#   tools/train/tpo.sh tpo-nll 1       the same with the chosen side's per-token NLL added at weight 1 (IRPO)
# Per iteration: fresh train-split prompts (400 a level), K = 8 samples with the answer-line thought
# prompt, the task checker judging the response (the final answer line) only, best-vs-worst pairs, DPO
# with the previous iteration's model as the frozen reference; held-out measurement on the whole test
# split (500 a level) with the thought prompt and answering directly. A named run other than tpo starts
# from the tpo run's iteration-0 measurement and iteration-1 pairs (same model, same prompts and seeds),
# so run the default first. Needs `npm run build:ts`. Outputs: tools/train/work/<name>/ (prompts, pairs,
# checkpoints; git-ignored) and tools/train/logs/<name>-*.json(.gz).
set -eu
cd "$(dirname "$0")/../.."
NAME="${1:-tpo}"
NLL="${2:-0}"
W="tools/train/work/$NAME"
SHARED=tools/train/work/tpo
LOGS=tools/train/logs
mkdir -p "$W"
TT="nice -n 5 node dist/cli/main.js"
COMMON="--thought-prompt answer-line --max-tokens 400 --threads 1"

for L in 1 2 3 4 5; do zcat "models/data/test-level-$L.jsonl.gz"; done > "$W/heldout.jsonl"
for it in 1 2; do
  for L in 1 2 3 4 5; do $TT data gen --seed $((1000 * it + L)) --n 400 --level "$L" --split train; done > "$W/prompts-iter$it.jsonl"
done

evaluate() { # model, iteration
  $TT tpo eval --model "$1" --data "$W/heldout.jsonl" $COMMON --mode both --out "$W/eval-iter$2.json" > "$W/eval-iter$2.txt"
  gzip -9 -n -c "$W/eval-iter$2.json" > "$LOGS/$NAME-eval-iter$2.json.gz"
  cat "$W/eval-iter$2.txt"
}

if [ "$NAME" = tpo ]; then evaluate models/policy 0; fi
prev=models/policy
for it in 1 2; do
  if [ "$NAME" != tpo ] && [ "$it" = 1 ]; then
    cp "$SHARED/pairs-iter1.jsonl" "$W/pairs-iter1.jsonl"
  else
    $TT tpo pairs --model "$prev" --data "$W/prompts-iter$it.jsonl" $COMMON --k 8 --judge checker --seed $((100000 * it)) \
      --out "$W/pairs-iter$it.jsonl" --summary "$LOGS/$NAME-pairs-iter$it.json"
  fi
  nice -n 5 tools/train/py tools/train/dpo.py --policy "$prev" --pairs "$W/pairs-iter$it.jsonl" --out "$W/policy-iter$it" \
    --name "$NAME-dpo-iter$it" --beta 0.1 --lr 5e-5 --epochs 2 --batch-pairs 16 --seed "$it" --nll-weight "$NLL"
  evaluate "$W/policy-iter$it" "$it"
  prev="$W/policy-iter$it"
done
