#!/usr/bin/env bash
# Create .venv (if needed) and install flowrun with its dev tools into it.
# Idempotent: re-installs only when pyproject.toml changed. Also installs the Debian packages
# redis-server and postgresql when missing (scripts/services-setup.sh), which tests start.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.flowrun-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev,serve,queue,postgres,otel]"
  echo "$want" > "$stamp"
fi
bash scripts/services-setup.sh
