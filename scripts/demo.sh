#!/usr/bin/env bash
# Quick start, command 1: set up, then run an example workflow through the real CLI.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
.venv/bin/flowrun validate examples/
.venv/bin/flowrun run examples/hello.workflow.yml
