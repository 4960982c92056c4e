#!/usr/bin/env bash
# Bootstrap the project's virtual environment, idempotently.
#
#   bash scripts/setup_env.sh          # CPU machine: torch==2.13.0 (local CPU wheel), then requirements.txt
#   bash scripts/setup_env.sh --gpu    # GPU machine: requirements-gpu.txt (verl[vllm,fsdp], CUDA torch)
#
# Environment: AWPO_VENV (default: <repo>/.venv), PYTHON (default: python3).
# A stamp file records a hash of the requirement files; when nothing changed the script returns in well under a
# second, so every other script can call it unconditionally.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${AWPO_VENV:-$repo_root/.venv}"
python_bin="${PYTHON:-python3}"
flavour="cpu"
if [[ "${1:-}" == "--gpu" ]]; then
  flavour="gpu"
elif [[ -n "${1:-}" ]]; then
  echo "usage: $0 [--gpu]" >&2
  exit 2
fi

if [[ "$flavour" == "cpu" ]]; then
  inputs=(requirements.txt constraints-cpu.txt requirements-nodeps.txt pyproject.toml)
else
  inputs=(requirements-gpu.txt requirements-nodeps.txt pyproject.toml)
fi
stamp_value="$flavour $(cd "$repo_root" && cat "${inputs[@]}" | sha256sum | cut -d' ' -f1)"
stamp_file="$venv/.awpo-env-stamp"

if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp_value" ]]; then
  exit 0
fi

log() { printf '[setup_env] %s\n' "$*" >&2; }
started=$SECONDS

if [[ ! -x "$venv/bin/python" ]]; then
  log "creating virtual environment at $venv"
  "$python_bin" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install --quiet --upgrade "pip>=25"

cd "$repo_root"
if [[ "$flavour" == "cpu" ]]; then
  log "installing torch==2.13.0 (CPU build) first"
  "${pip[@]}" install --quiet torch==2.13.0
  log "installing requirements.txt under constraints-cpu.txt"
  "${pip[@]}" install --quiet -r requirements.txt -c constraints-cpu.txt
else
  log "installing requirements-gpu.txt"
  "${pip[@]}" install --quiet -r requirements-gpu.txt
fi
log "installing requirements-nodeps.txt without dependencies (bfcl-eval's checker and data)"
"${pip[@]}" install --quiet --no-deps -r requirements-nodeps.txt
log "installing the awpo package in editable mode"
"${pip[@]}" install --quiet --no-deps -e .

echo "$stamp_value" >"$stamp_file"
log "environment ready in $((SECONDS - started)) s: $venv"
