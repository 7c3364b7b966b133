#!/usr/bin/env bash
# Reproduces models/e5-small-nli: four seeded runs, each warm-started from the one before.
# About 5 hours on 2 CPU cores; rerunning resumes every run from its last checkpoint.
# Needs the training pool of ../shared/data (or CONTRADICT_DATA); writes under runs/.
set -euo pipefail
cd "$(dirname "$0")/.."
contradict train --work-dir runs/r1 --seed 13 --max-steps 1400 --threads 2 --export runs/r1/export
contradict train --work-dir runs/r2 --init-from runs/r1/export --seed 14 --lr 4e-5 --head-lr 2e-4 \
  --max-steps 1000 --threads 2 --export runs/r2/export
contradict train --work-dir runs/r3 --init-from runs/r2/export --seed 15 --lr 4e-5 --head-lr 2e-4 \
  --max-steps 1400 --threads 2 --export runs/r3/export
contradict train --work-dir runs/r5 --init-from runs/r3/export --seed 17 --lr 5e-5 --head-lr 2e-4 \
  --cross-lingual 0.5 --layer-decay 0.9 --max-steps 1800 --threads 2 --export models/e5-small-nli
