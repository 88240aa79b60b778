#!/usr/bin/env bash
# Quick start, command 2: set up, then run every linter, type checker and test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export PATH="$root/.venv/bin:$PATH"

echo "== ruff"
ruff check --no-cache server tests benchmarks
ruff format --no-cache --check server tests benchmarks

echo "== mypy --strict"
mypy

echo "== pytest (with branch coverage of server/)"
rm -f .coverage .coverage.*
set +e
python -m pytest -m "not e2e" --cov --cov-report=term "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests" >&2
  exit 1
fi
[ "$status" -eq 0 ] || exit "$status"

if [ -f extension/package.json ]; then
  echo "== extension"
  bash scripts/extension.sh test
fi
