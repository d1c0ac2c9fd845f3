#!/usr/bin/env bash
# Trains every model shipped in models/ on the simulator suite (npm run data:suite writes .tmp/data first).
# Two trainings run at a time (TF.js wasm uses one core each). Each model card records its exact command.
#   bash scripts/train-shipped.sh            # all
#   bash scripts/train-shipped.sh default    # some, by name
set -euo pipefail
cd "$(dirname "$0")/.."
ls .tmp/data/train-*.mcap >/dev/null 2>&1 || { echo "no .tmp/data: run npm run data:suite first" >&2; exit 2; }
TRAIN=$(ls .tmp/data/train-*.mcap); VAL=$(ls .tmp/data/validation-*.mcap); TEST=$(ls .tmp/data/test-*.mcap)
COMMON="--every 3 --epochs 30 --patience 5 --dropout 0.25"
train() { # name minutes args...
  local name=$1 minutes=$2; shift 2
  mkdir -p .tmp/logs
  # shellcheck disable=SC2086
  node bin/fusiond.js train --data $TRAIN --val-data $VAL --test-data $TEST $COMMON --max-minutes "$minutes" --out "models/$name" "$@" > ".tmp/logs/train-$name.log" 2>&1 \
    && echo "trained models/$name" || { echo "models/$name failed: see .tmp/logs/train-$name.log" >&2; return 1; }
}
want() { [ $# -eq 0 ] || [[ " $WANT " == *" $1 "* ]]; }
WANT="$*"
slot_a() {
  if want default; then train default 14 --strategy intermediate --pretrain voice --freeze 2 --compare models/camera-only \
    --description "default fused model: intermediate fusion of all five modalities and the standing voice request; voice encoder pretrained on the spoken command (also the recogniser), frozen then fine-tuned; modality dropout 0.25"; fi
  if want late; then train late 6 --strategy late --pretrain voice --freeze 2 --compare models/camera-only --description "late fusion of all five modalities (per-modality heads, learned presence-dependent weights)"; fi
  if want attention; then train attention 6 --strategy attention --pretrain voice --freeze 2 --compare models/camera-only --description "cross-modal attention over the five modality tokens"; fi
}
slot_b() {
  if want camera-only; then train camera-only 4 --strategy intermediate --modalities camera --description "camera-only baseline (intermediate architecture, the camera encoder alone)"; fi
  if want early; then train early 6 --strategy early --compare models/camera-only --description "early fusion: every modality's features joined before one MLP"; fi
  if want no-camera; then train no-camera 3 --strategy intermediate --modalities radar,gnss,ego,voice --pretrain voice --freeze 2 --description "fallback for a missing camera: intermediate fusion trained without it"; fi
  for m in radar gnss ego voice; do
    if want "$m-only"; then train "$m-only" 1.5 --strategy intermediate --modalities "$m" --description "single-modality baseline: $m alone (intermediate architecture)"; fi
  done
}
WANT="$WANT" slot_a & a=$!
WANT="$WANT" slot_b & b=$!
wait $a; wait $b
