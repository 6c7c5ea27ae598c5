#!/usr/bin/env bash
# Train the reader on a lent GPU machine from a plan of questions written here, and leave its
# weights as fp16 parts of at most 15 MiB (the device tool returns files of up to 16 MiB).
#
#   here:   python -m ragnews.reading.training --save-examples gpu/plan.json.xz --swaps 25000 ...
#   there:  bash scripts/gpu_train.sh gpu/plan.json.xz "$OUT" --device cuda --minutes M ...
#   here:   cat OUT/model.safetensors.part* > CKPT/model.safetensors  (with ragnews/data/reader's
#           config.json), then python -m ragnews.reading.evaluation --checkpoint CKPT --out DIR
set -euo pipefail
plan=$1 out=$2
shift 2
run=$(mktemp -d)
mkdir -p "$out"
PYTHONUNBUFFERED=1 python3 -m ragnews.reading.training --examples-file "$plan" \
    --base ragnews/data/reader --out "$run" "$@" 2>&1 | tee "$out/train.log"
python3 - "$run/checkpoint/model.safetensors" "$run/model.fp16.safetensors" <<'PY'
import sys
from safetensors.torch import load_file, save_file
weights = load_file(sys.argv[1])
save_file({k: v.half() for k, v in weights.items()}, sys.argv[2], metadata={"format": "pt"})
PY
split -b 15M -d "$run/model.fp16.safetensors" "$out/model.safetensors.part"
ls -l "$out"
