#!/usr/bin/env bash
# Baseline: GRPO on r + REASONING_COEF * q (algorithm.awpo.mode=naive_sum; a missing q counts 0): the naive
# combination the paper argues against. Same data, model and budget as scripts/train_awpo.sh.
set -euo pipefail
export AWPO_MODE=naive_sum EXPERIMENT="${EXPERIMENT:-naive-sum-qwen3-4b}"
exec bash "$(dirname "${BASH_SOURCE[0]}")/train.sh" "$@"
