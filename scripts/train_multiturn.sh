#!/usr/bin/env bash
# Multi-turn preset: AWPO on executed multi-turn episodes (the awpo_multiturn_agent loop against BFCL's backends,
# docs/multiturn.md). Prepare the data first:
#   python -m data_preprocess.multiturn_generate --output-dir data/multiturn --tasks 4000   # training tasks
#   python -m data_preprocess.bfcl_multiturn --output-dir data/bfcl_multiturn                # BFCL multi-turn, val only
# Lengths: the first turn's prompt with the tools of one or two backends is at most ~6k Qwen3 tokens on BFCL's
# tasks (MAX_PROMPT_LENGTH 8192); MAX_RESPONSE_LENGTH is the whole episode after it (every generation, tool result
# and later user turn); MT_MAX_TOKENS_PER_STEP caps one generation, MT_MAX_STEPS_PER_TURN the tool-calling
# generations of one user turn (bfcl-eval's 20). Sequences reach 16k tokens: dynamic batches of 32k per GPU.
set -euo pipefail
DATA_DIR="${DATA_DIR:-data}"
export TRAIN_FILES="${TRAIN_FILES:-[$DATA_DIR/multiturn/train.parquet]}"
export VAL_FILES="${VAL_FILES:-[$DATA_DIR/multiturn/val.parquet,$DATA_DIR/bfcl_multiturn/val.parquet]}"
export MAX_PROMPT_LENGTH="${MAX_PROMPT_LENGTH:-8192}" MAX_RESPONSE_LENGTH="${MAX_RESPONSE_LENGTH:-8192}"
export PPO_MAX_TOKENS_PER_GPU="${PPO_MAX_TOKENS_PER_GPU:-32768}"
export TRAIN_BATCH_SIZE="${TRAIN_BATCH_SIZE:-64}" PPO_MINI_BATCH_SIZE="${PPO_MINI_BATCH_SIZE:-16}"
export MT_MAX_STEPS_PER_TURN="${MT_MAX_STEPS_PER_TURN:-20}" MT_MAX_TOKENS_PER_STEP="${MT_MAX_TOKENS_PER_STEP:-1024}"
export EXPERIMENT="${EXPERIMENT:-awpo-multiturn-qwen3-4b}"
exec bash "$(dirname "${BASH_SOURCE[0]}")/train.sh" "$@"
