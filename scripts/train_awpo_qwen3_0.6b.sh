#!/usr/bin/env bash
# Smoke variant: AWPO on Qwen3-0.6B with a small batch and short schedule (2 GPUs by default) — checks that the
# whole GPU path (vLLM rollout, judge, AWPO hooks, checkpoints) works before a long run.
set -euo pipefail
export MODEL="${MODEL:-Qwen/Qwen3-0.6B}" EXPERIMENT="${EXPERIMENT:-awpo-qwen3-0.6b-smoke}"
export N_GPUS="${N_GPUS:-2}" TRAIN_BATCH_SIZE="${TRAIN_BATCH_SIZE:-16}" PPO_MINI_BATCH_SIZE="${PPO_MINI_BATCH_SIZE:-8}"
export ROLLOUT_N="${ROLLOUT_N:-4}" MAX_RESPONSE_LENGTH="${MAX_RESPONSE_LENGTH:-1024}"
export TOTAL_TRAINING_STEPS="${TOTAL_TRAINING_STEPS:-20}" SAVE_FREQ="${SAVE_FREQ:-20}" TEST_FREQ="${TEST_FREQ:-10}"
exec bash "$(dirname "${BASH_SOURCE[0]}")/train.sh" "$@"
