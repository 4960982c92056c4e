#!/usr/bin/env bash
# GPU smoke test: a short AWPO run of Qwen3-0.6B with vLLM rollout and a judge, then the same as GRPO
# (algorithm.awpo.mode=outcome_only); asserts every awpo/* metric and prints the step time of each and the ratio.
#
#   bash scripts/smoke_gpu.sh [--dry-run]
#
# Environment: MODEL (default Qwen/Qwen3-0.6B; a local path on machines without hub access), DATA_DIR (data, as
# written by scripts/prepare_data.sh; TRAIN_FILES/VAL_FILES override), N_GPUS (1), STEPS (3, at least 2: step 1
# warms up, the step time is the median over steps 2..STEPS), JUDGE_MODE (rule: no judge GPU needed; serve with
# JUDGE_GPUS/TRAIN_GPUS, or external with JUDGE_BASE_URL, to exercise a model judge), OUTPUT_DIR
# (outputs/smoke_gpu). Needs `bash scripts/setup_env.sh --gpu`.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
dry_run=()
if [[ "${1:-}" == "--dry-run" ]]; then
  dry_run=(--dry-run)
fi
python="${PYTHON:-${AWPO_VENV:-$repo_root/.venv}/bin/python}"
output_dir="${OUTPUT_DIR:-$repo_root/outputs/smoke_gpu}"
steps="${STEPS:-3}"
if [[ ! "$steps" =~ ^[0-9]+$ ]] || ((10#$steps < 2)); then
  echo "[smoke_gpu] STEPS must be a whole number of at least 2 (step 1 warms up; step times come from steps" \
    "2..STEPS), got '$steps'" >&2
  exit 2
fi
steps=$((10#$steps))
mkdir -p "$output_dir"
export MODEL="${MODEL:-Qwen/Qwen3-0.6B}" N_GPUS="${N_GPUS:-1}" JUDGE_MODE="${JUDGE_MODE:-rule}"
export TRAIN_BATCH_SIZE="${TRAIN_BATCH_SIZE:-8}" PPO_MINI_BATCH_SIZE="${PPO_MINI_BATCH_SIZE:-8}"
export ROLLOUT_N="${ROLLOUT_N:-4}" MAX_RESPONSE_LENGTH="${MAX_RESPONSE_LENGTH:-1024}"
export TOTAL_TRAINING_STEPS="$steps" SAVE_FREQ=-1 TEST_FREQ=-1 LOGGER="[console]" WANDB_MODE=disabled

for mode in awpo outcome_only; do
  echo "[smoke_gpu] $steps steps of $MODEL with algorithm.awpo.mode=$mode (judge: $JUDGE_MODE)"
  # With pipefail the pipeline fails with train.sh's status; `|| status=$?` keeps set -e from exiting first.
  status=0
  AWPO_MODE="$mode" EXPERIMENT="smoke-$mode" CHECKPOINT_DIR="$output_dir/checkpoints/$mode" \
    bash scripts/train.sh "${dry_run[@]}" trainer.val_before_train=false 2>&1 | tee "$output_dir/$mode.log" ||
    status=$?
  if [[ $status -ne 0 ]]; then
    echo "[smoke_gpu] $mode run failed (exit $status); see $output_dir/$mode.log" >&2
    exit "$status"
  fi
done
if [[ ${#dry_run[@]} -gt 0 ]]; then
  exit 0
fi

"$python" - "$output_dir" "$steps" <<'PY'
import statistics
import sys
from pathlib import Path

from awpo.console_metrics import parse_console_metrics

AWPO_METRICS = (
    "awpo/gate_mean", "awpo/weight_mean", "awpo/tied_group_frac", "awpo/reasoning_valid_frac",
    "awpo/outcome_adv_abs_mean", "awpo/reasoning_contrib_abs_mean", "awpo/clip_frac",
    "awpo/outcome_reward_mean", "awpo/reasoning_reward_mean",
)
output_dir, steps = Path(sys.argv[1]), int(sys.argv[2])
medians = {}
for mode in ("awpo", "outcome_only"):
    with open(output_dir / f"{mode}.log") as log:
        metrics = parse_console_metrics(log)
    for step in range(1, steps + 1):
        missing = [name for name in AWPO_METRICS if name not in metrics.get(step, {})]
        if missing:
            sys.exit(f"[smoke_gpu] {mode} step {step} lacks {missing}")
    times = [metrics[step]["timing_s/step"] for step in range(2, steps + 1)]
    medians[mode] = statistics.median(times)
    last = metrics[steps]
    print(f"  {mode:<13} step time {medians[mode]:.2f} s (steps 2..{steps}); "
          f"reasoning_valid_frac {last['awpo/reasoning_valid_frac']:.2f}, "
          f"reasoning_contrib_abs_mean {last['awpo/reasoning_contrib_abs_mean']:.4f}")
print(f"[smoke_gpu] all awpo/* metrics present; AWPO / GRPO step time = {medians['awpo'] / medians['outcome_only']:.3f}")
PY
