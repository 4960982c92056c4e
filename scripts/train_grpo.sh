#!/usr/bin/env bash
# Baseline: GRPO on the outcome reward only (algorithm.awpo.mode=outcome_only: verl's GRPO advantages), same data,
# model and budget as scripts/train_awpo.sh. The judge still runs so its metrics stay comparable; JUDGE_MODE=rule
# saves the judge GPUs.
set -euo pipefail
export AWPO_MODE=outcome_only EXPERIMENT="${EXPERIMENT:-grpo-qwen3-4b}"
exec bash "$(dirname "${BASH_SOURCE[0]}")/train.sh" "$@"
