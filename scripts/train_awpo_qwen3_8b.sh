#!/usr/bin/env bash
# AWPO on Qwen3-8B. Defaults it changes: vLLM rollout tensor-parallel over 2 GPUs (ROLLOUT_TP=2) and at most 12288
# tokens per GPU in each dynamic micro-batch of the actor (PPO_MAX_TOKENS_PER_GPU=12288, train.sh: 16384).
# Otherwise as scripts/train_awpo.sh, whose defaults already offload the reference model (REF_PARAM_OFFLOAD=true).
set -euo pipefail
export MODEL="${MODEL:-Qwen/Qwen3-8B}" EXPERIMENT="${EXPERIMENT:-awpo-qwen3-8b}"
export ROLLOUT_TP="${ROLLOUT_TP:-2}" PPO_MAX_TOKENS_PER_GPU="${PPO_MAX_TOKENS_PER_GPU:-12288}"
exec bash "$(dirname "${BASH_SOURCE[0]}")/train.sh" "$@"
