#!/usr/bin/env bash
# Reproduces models/e5-small-nli: seeded runs, each warm-started from the one before.
# Runs 1-5 (first-generation pool, about 5 hours on 2 CPU cores) give run 5; run 7 (second-generation pool:
# every training source of the data README plus data/ro_nli, about 45 minutes) gives the shipped weights.
# Rerunning resumes every run from its last checkpoint. Needs ../shared/data (or CONTRADICT_DATA); writes runs/.
set -euo pipefail
cd "$(dirname "$0")/.."
contradict train --pool v1 --work-dir runs/r1 --seed 13 --max-steps 1400 --threads 2 --export runs/r1/export
contradict train --pool v1 --work-dir runs/r2 --init-from runs/r1/export --seed 14 --lr 4e-5 --head-lr 2e-4 \
  --max-steps 1000 --threads 2 --export runs/r2/export
contradict train --pool v1 --work-dir runs/r3 --init-from runs/r2/export --seed 15 --lr 4e-5 --head-lr 2e-4 \
  --max-steps 1400 --threads 2 --export runs/r3/export
contradict train --pool v1 --work-dir runs/r5 --init-from runs/r3/export --seed 17 --lr 5e-5 --head-lr 2e-4 \
  --cross-lingual 0.5 --layer-decay 0.9 --max-steps 1800 --threads 2 --export runs/r5/export
# run 7 was planned at 2,400 steps, re-planned at 1,500 at step 300 (the schedule's end moved once there) and
# stopped at step 1,000 for the session's time; then calibrated on the pool's validation split
# (and on data/ro_nli as it was then: the train split's wording was revised since, and validation.jsonl came
# later, so both steps read that version out of git, the commit that shipped run 7)
R7="--work-dir runs/r7 --init-from runs/r5/export --seed 19 --lr 5e-5 --head-lr 2e-4 --cross-lingual 0.5 --layer-decay 0.9"
export CONTRADICT_RO_NLI=runs/ro_nli-run7
mkdir -p "$CONTRADICT_RO_NLI"
for split in train test; do git show "dbc4330:data/ro_nli/$split.jsonl" > "$CONTRADICT_RO_NLI/$split.jsonl"; done
contradict train $R7 --max-steps 2400 --stop-at-step 300 --threads 2
contradict train $R7 --max-steps 1500 --stop-at-step 1000 --threads 2 --export models/e5-small-nli
contradict calibrate --data validation --split validation --out models/e5-small-nli --backend onnx --threads 2
unset CONTRADICT_RO_NLI
# the learned ranker belongs to these weights: refit it whenever they change (bench-fit + half our Romanian docs)
contradict fit-ranker --out models/e5-small-nli --threads 2
