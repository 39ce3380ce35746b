#!/bin/sh
# The two-iteration Thought Preference Optimization run of docs/tpo.md on the shipped policy: per
# iteration, fresh train-split prompts (400 a level), K = 8 samples with the answer-line thought prompt,
# the task checker judging the response (the final answer line) only, best-vs-worst pairs, DPO with the
# previous iteration's model as the frozen reference; held-out measurement on the whole test split
# (500 a level) with the thought prompt and answering directly. Needs `npm run build:ts` first.
# Outputs: tools/train/work/tpo/ (prompts, pairs, checkpoints; git-ignored) and tools/train/logs/tpo-*.json(.gz).
set -eu
cd "$(dirname "$0")/../.."
W=tools/train/work/tpo
L=tools/train/logs
mkdir -p "$W"
TT="nice -n 5 node dist/cli/main.js"
COMMON="--thought-prompt answer-line --max-tokens 400 --threads 1"

for L_ in 1 2 3 4 5; do zcat models/data/test-level-$L_.jsonl.gz; done > "$W/heldout.jsonl"
for it in 1 2; do
  for L_ in 1 2 3 4 5; do $TT data gen --seed $((1000 * it + L_)) --n 400 --level $L_ --split train; done > "$W/prompts-iter$it.jsonl"
done

evaluate() { # model, iteration
  $TT tpo eval --model "$1" --data "$W/heldout.jsonl" $COMMON --mode both --out "$W/eval-iter$2.json" > "$W/eval-iter$2.txt"
  gzip -9 -n -c "$W/eval-iter$2.json" > "$L/tpo-eval-iter$2.json.gz"
  cat "$W/eval-iter$2.txt"
}

evaluate models/policy 0
prev=models/policy
for it in 1 2; do
  $TT tpo pairs --model "$prev" --data "$W/prompts-iter$it.jsonl" $COMMON --k 8 --judge checker --seed $((100000 * it)) \
    --out "$W/pairs-iter$it.jsonl" --summary "$L/tpo-pairs-iter$it.json"
  nice -n 5 tools/train/py tools/train/dpo.py --policy "$prev" --pairs "$W/pairs-iter$it.jsonl" --out "$W/policy-iter$it" \
    --name "tpo-dpo-iter$it" --beta 0.1 --lr 5e-5 --epochs 2 --batch-pairs 16 --seed "$it"
  evaluate "$W/policy-iter$it" "$it"
  prev="$W/policy-iter$it"
done
