#!/usr/bin/env bash
# The main job (the README's first command): sets up .venv on a fresh machine, then runs one synthetic AWPO step
# through verl's own compute_advantage and prints what the gate, weight and clip did and the awpo/* metrics.
# Extra arguments are Hydra overrides of the recipe config, e.g. `bash scripts/quickstart.sh algorithm.awpo.gate=binary`.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
bash scripts/setup_env.sh
venv="${AWPO_VENV:-$repo_root/.venv}"
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"
exec "$venv/bin/python" -m awpo.demo "$@"
