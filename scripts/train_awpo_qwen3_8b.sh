#!/usr/bin/env bash
# AWPO on Qwen3-8B: tensor-parallel rollout over 2 GPUs and parameter offload of the reference model; otherwise as
# scripts/train_awpo.sh.
set -euo pipefail
export MODEL="${MODEL:-Qwen/Qwen3-8B}" EXPERIMENT="${EXPERIMENT:-awpo-qwen3-8b}"
export ROLLOUT_TP="${ROLLOUT_TP:-2}" PPO_MAX_TOKENS_PER_GPU="${PPO_MAX_TOKENS_PER_GPU:-12288}"
exec bash "$(dirname "${BASH_SOURCE[0]}")/train.sh" "$@"
