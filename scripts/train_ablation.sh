#!/usr/bin/env bash
# AWPO ablations: bash scripts/train_ablation.sh {gate|weight|clip|all} [--dry-run] [hydra overrides...]
#   gate   variance-aware gate off (algorithm.awpo.gate=none)
#   weight difficulty-aware weight off (algorithm.awpo.weight=none)
#   clip   tailored clipping off (algorithm.awpo.clip=none)
#   all    all three off: GRPO + REASONING_COEF x normalised reasoning advantage
set -euo pipefail
ablation="${1:-}"
case "$ablation" in
  gate) export AWPO_GATE=none ;;
  weight) export AWPO_WEIGHT=none ;;
  clip) export AWPO_CLIP=none ;;
  all) export AWPO_GATE=none AWPO_WEIGHT=none AWPO_CLIP=none ;;
  *)
    echo "usage: $0 {gate|weight|clip|all} [--dry-run] [hydra overrides...]" >&2
    exit 2
    ;;
esac
shift
export EXPERIMENT="${EXPERIMENT:-awpo-no-$ablation-qwen3-4b}"
exec bash "$(dirname "${BASH_SOURCE[0]}")/train.sh" "$@"
