#!/usr/bin/env bash
# Train the reader on a GPU machine from a plan of questions written here, and leave its
# difference from ragnews/data/reader in int8 parts of at most 15 MiB, small enough to copy
# back where only small files travel (two runs' differences fit in 64 MiB; two readers do not).
#
#   here:   python -m training.train --save-examples gpu/plan.json.xz --swaps 25000 ...
#   there:  bash training/gpu_train.sh gpu/plan.json.xz "$OUT" --device cuda --minutes M ...
#   here:   cat OUT/delta.safetensors.part* > delta.safetensors
#           python -m training.deltas unpack delta.safetensors ragnews/data/reader CKPT
#           python -m training.evaluate --checkpoint CKPT --out DIR
set -euo pipefail
plan=$1 out=$2
shift 2
run=$(mktemp -d)
mkdir -p "$out"
PYTHONUNBUFFERED=1 python3 -m training.train --examples-file "$plan" \
    --base ragnews/data/reader --out "$run" "$@" 2>&1 | tee "$out/train.log"
python3 -m training.deltas pack "$run/checkpoint" ragnews/data/reader "$run/delta.safetensors"
split -b 15M -d "$run/delta.safetensors" "$out/delta.safetensors.part"
ls -l "$out"
