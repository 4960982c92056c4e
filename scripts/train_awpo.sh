#!/usr/bin/env bash
# AWPO on Qwen3-4B (the paper's size). Settings: scripts/train.sh (environment variables); extra arguments are
# Hydra overrides; --dry-run prints the composed config.
set -euo pipefail
export MODEL="${MODEL:-Qwen/Qwen3-4B}" EXPERIMENT="${EXPERIMENT:-awpo-qwen3-4b}"
exec bash "$(dirname "${BASH_SOURCE[0]}")/train.sh" "$@"
