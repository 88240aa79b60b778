#!/usr/bin/env bash
# Create benchmarks/peers/.venv with the peer orchestrators (NOT a Flowrun dependency).
# Usage: bash benchmarks/peers/setup.sh   (idempotent; big download: Prefect, Dagster, Luigi, Hamilton, PocketFlow)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
if [ ! -x "$here/.venv/bin/python" ]; then
  "$python" -m venv "$here/.venv"
fi
"$here/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$here/.venv/bin/python" -m pip install --disable-pip-version-check \
  "pocketflow>=0.0.3" "apache-hamilton>=1.90" "luigi>=3.5" "dagster>=1.8" "prefect>=3.0,<4"
"$here/.venv/bin/python" -c "import pocketflow, hamilton, luigi, dagster, prefect; print('luigi', luigi.__version__ if hasattr(luigi, '__version__') else '?', 'dagster', dagster.__version__, 'prefect', prefect.__version__)"
