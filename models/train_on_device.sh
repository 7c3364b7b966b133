#!/usr/bin/env bash
# A second-generation run from the e5 base on a lent GPU machine, from a training pack built here.
#
# Here (once):  contradict pack --out runs/pack        # ~50 MB: pool, validation rows, cut-down e5 file
#               python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#                 --platform manylinux2014_x86_64 -d .whl sentencex==1.0.32      # the GPU image's Python is 3.12
#   (with .whl and runs/pack ignored by git).  The working tree travels too and the cap is 64 MiB, so the
#   tracked 43 MB weights cannot go with the pack: move models/e5-small-nli/model.safetensors aside for the
#   call (this run starts from the base encoder, not from them) and put it back after.
# There:        device run, carry ["runs/pack", ".whl"], command: bash models/train_on_device.sh
# Back here:    cat <files_at>/model.safetensors.part-* > runs/gpu/model.safetensors; cp training.json beside it;
#               contradict eval validation --split validation --model runs/gpu --backend onnx   (judge it here)
#
# Writes under $OUT: the exported weights in parts under the 16 MiB a file that comes back, training.json,
# train.log, validation.json (the pack's validation rows scored there).  Every knob is an environment
# variable, so a CPU dry run (DEVICE=cpu MAX_STEPS=2) checks the whole path before device time is spent.
set -euo pipefail
OUT=$(realpath -m "${OUT:?set OUT to the folder whose files come back}")
PACK=$(realpath -m "${PACK:-$(dirname "$0")/../runs/pack}")
cd "$(dirname "$0")/.."
WORK=${WORK:-/tmp/contradict-gpu-run}
DEVICE=${DEVICE:-cuda}
# about two passes over the pool at batch 64 (~280k examples a pass with both orders of contradictions);
# the schedule is planned on these steps, so size them to the machine: the log prints pairs/s
MAX_STEPS=${MAX_STEPS:-9000}
BATCH_SIZE=${BATCH_SIZE:-64}
# minutes from the start of training (loading and tokenizing counted), so the export and the copies still
# happen inside one call's 10 minutes; an export cut short records schedule_complete: false
TIME_LIMIT=${TIME_LIMIT:-7}
LR=${LR:-6e-5}
HEAD_LR=${HEAD_LR:-3e-4}
THREADS=${THREADS:-$(nproc)}
PYTHON=${PYTHON:-python3}  # the GPU image's python3 holds PyTorch
for f in pool.parquet validation.jsonl e5-subset.bin.gz; do
  [ -f "$PACK/$f" ] || { echo "no $PACK/$f: build the pack first (contradict pack --out runs/pack)" >&2; exit 2; }
done

export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export CONTRADICT_E5_FILE="$PACK/e5-subset.bin.gz" CONTRADICT_CACHE="$WORK/cache"
if ! "$PYTHON" -c "import sentencex" 2>/dev/null; then  # the only requirement missing from the GPU image
  compgen -G ".whl/sentencex-*.whl" >/dev/null || { echo "sentencex is missing and no .whl/sentencex-*.whl was carried" >&2; exit 2; }
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --target "$WORK/site" .whl/*.whl
  export PYTHONPATH="$PYTHONPATH:$WORK/site"
fi
# every source of the pool whole once a pass (the CPU runs drew shares of the large ones); sources drawn
# several times (our Romanian NLI) or not at all (RoNLI) keep their default weights
WEIGHTS=${WEIGHTS:-$("$PYTHON" -c "from contradict.evaluation.datasets import DEFAULT_WEIGHTS as w
print(','.join(f'{k}={1 if 0 < v < 1 else v}' for k, v in w.items()))")}
echo "weights $WEIGHTS"
mkdir -p "$OUT" "$WORK"
"$PYTHON" -m contradict.cli train --pool-file "$PACK/pool.parquet" --work-dir "$WORK/run" --device "$DEVICE" \
  --max-steps "$MAX_STEPS" --batch-size "$BATCH_SIZE" --lr "$LR" --head-lr "$HEAD_LR" \
  --cross-lingual 0.5 --layer-decay 0.9 --seed 31 --weights "$WEIGHTS" --checkpoint-every 500 --threads "$THREADS" \
  --time-limit "$TIME_LIMIT" \
  --export "$WORK/export" || { cp "$WORK/run/train.log" "$OUT/" 2>/dev/null; exit 1; }
cp "$WORK/run/train.log" "$WORK/export/training.json" "$OUT/"
"$PYTHON" -m contradict.cli eval "$PACK/validation.jsonl" --model "$WORK/export" --device "$DEVICE" --threads "$THREADS" \
  --quiet --format json > "$OUT/validation.json" || echo "validation scoring failed there: score it here"
split -b 15M -d "$WORK/export/model.safetensors" "$OUT/model.safetensors.part-"
ls -l "$OUT"
