#!/usr/bin/env bash
# The project's test command (the README's second command; CI runs exactly this through .ci/run).
# Bootstraps .venv on a fresh machine, checks formatting and lint, then runs the whole pytest suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k advantage -x`.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
bash scripts/setup_env.sh
venv="${AWPO_VENV:-$repo_root/.venv}"

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
