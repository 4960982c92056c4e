#!/usr/bin/env bash
# The main job (the README's first command): on a CPU-only machine with nothing installed, set up .venv, build a
# tiny random Qwen3 model and tokenizer, convert the bundled sample data, and train a few AWPO steps through verl's
# real trainer (CPU backend, rule judge, awpo_tool_agent loop), printing every step's metrics and saving a
# checkpoint under outputs/quickstart/. Takes about 1.5 minutes after setup on 2 cores.
# Arguments go to `python -m awpo.cpu.quickstart`: --steps N, --output-dir DIR, and Hydra overrides of the recipe,
# e.g. `bash scripts/quickstart.sh --steps 6 algorithm.awpo.gate=binary`. The sample data is converted here, with
# data_preprocess.xlam, into <output-dir>/data (once; later runs reuse it): the awpo library never imports the
# converters.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
bash scripts/setup_env.sh
venv="${AWPO_VENV:-$repo_root/.venv}"
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"

output_dir="$repo_root/outputs/quickstart"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --output-dir) output_dir="${args[i + 1]:-}" ;;
    --output-dir=*) output_dir="${args[i]#--output-dir=}" ;;
  esac
done
data_dir="$output_dir/data"
if [[ ! -f "$data_dir/train.parquet" || ! -f "$data_dir/val.parquet" ]]; then
  echo "[quickstart] converting examples/data/xlam_sample.json → $data_dir"
  "$venv/bin/python" -m data_preprocess.xlam --input examples/data/xlam_sample.json --output-dir "$data_dir" \
    --val-ratio 0.2 --irrelevance-ratio 0.1
fi
exec "$venv/bin/python" -m awpo.cpu.quickstart "$@"
