#!/usr/bin/env bash
# Baseline: verl's GDPO (algorithm.adv_estimator=gdpo) on the outcome and reasoning rewards, each normalised per
# group, weighted 1 : REASONING_COEF and batch-whitened. A missing q counts 0. Same data, model and budget as
# scripts/train_awpo.sh.
set -euo pipefail
export ADV_ESTIMATOR=gdpo EXPERIMENT="${EXPERIMENT:-gdpo-qwen3-4b}"
exec bash "$(dirname "${BASH_SOURCE[0]}")/train.sh" "$@"
