#!/usr/bin/env bash
# The main job (the README's first command): on a CPU-only machine with nothing installed, set up .venv, build a
# tiny random Qwen3 model and tokenizer, convert the bundled sample data, and train a few AWPO steps through verl's
# real trainer (CPU backend, rule judge, awpo_tool_agent loop), printing every step's metrics and saving a
# checkpoint under outputs/quickstart/. Takes about 1.5 minutes after setup on 2 cores.
# Arguments go to `python -m awpo.cpu.quickstart`: --steps N, --output-dir DIR, and Hydra overrides of the recipe,
# e.g. `bash scripts/quickstart.sh --steps 6 algorithm.awpo.gate=binary`.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
bash scripts/setup_env.sh
venv="${AWPO_VENV:-$repo_root/.venv}"
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"
exec "$venv/bin/python" -m awpo.cpu.quickstart "$@"
