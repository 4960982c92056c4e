#!/usr/bin/env bash
# Benchmark: AWPO vs GRPO step time through verl's real trainer on the CPU backend.
#
#   bash scripts/bench_e2e_cpu.sh [STEPS]        (default 6 steps per run)
#
# Runs the quick-start configuration (tiny random Qwen3, the bundled sample data) twice back to back:
# algorithm.awpo.mode=awpo with the rule judge, then algorithm.awpo.mode=outcome_only (GRPO). Prints the median
# steady-state step time of each (timing_s/step of steps 2..STEPS; step 1 includes warm-up) and the ratio.
# Target: AWPO / GRPO <= 1.15. Environment: AWPO_BENCH_OUTPUT_DIR (default outputs/bench_e2e_cpu).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
steps="${1:-6}"
if ! [[ "$steps" =~ ^[0-9]+$ ]] || (( steps < 3 )); then
  echo "usage: $0 [STEPS>=3]" >&2
  exit 2
fi
bash scripts/setup_env.sh
python="${AWPO_VENV:-$repo_root/.venv}/bin/python"
output_dir="${AWPO_BENCH_OUTPUT_DIR:-$repo_root/outputs/bench_e2e_cpu}"
mkdir -p "$output_dir"

for mode in awpo outcome_only; do
  echo "[bench_e2e_cpu] training $steps steps with algorithm.awpo.mode=$mode"
  bash scripts/quickstart.sh --output-dir "$output_dir" --steps "$steps" \
    "algorithm.awpo.mode=$mode" trainer.val_before_train=false trainer.test_freq=-1 trainer.save_freq=-1 \
    > "$output_dir/$mode.log" 2>&1 || { tail -50 "$output_dir/$mode.log"; exit 1; }
done

"$python" - "$output_dir" "$steps" <<'PY'
import statistics
import sys
from pathlib import Path

from awpo.console_metrics import parse_console_metrics

output_dir, steps = Path(sys.argv[1]), int(sys.argv[2])
medians = {}
for mode in ("awpo", "outcome_only"):
    with open(output_dir / f"{mode}.log") as log:
        metrics = parse_console_metrics(log)
    times = [metrics[step]["timing_s/step"] for step in range(2, steps + 1) if "timing_s/step" in metrics.get(step, {})]
    if len(times) < steps - 1:
        sys.exit(f"{mode}: found step times for {len(times)} of steps 2..{steps}; see {output_dir / (mode + '.log')}")
    medians[mode] = statistics.median(times)
    adv = statistics.median(metrics[step].get("timing_s/adv", float("nan")) for step in range(2, steps + 1))
    print(f"  {mode:<13} median step {medians[mode]:.3f} s (steps 2..{steps}: {', '.join(f'{t:.2f}' for t in times)}); "
          f"median adv {adv * 1e3:.1f} ms")
ratio = medians["awpo"] / medians["outcome_only"]
print(f"AWPO / GRPO step time = {ratio:.3f}  (target <= 1.15: {'PASS' if ratio <= 1.15 else 'FAIL'})")
PY
