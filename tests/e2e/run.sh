#!/usr/bin/env bash
# The real-editor end-to-end test: install the tools (cached), build the .vsix, then drive
# code-server in Chromium through tests/e2e/flowrun.test.mjs (node's test runner).
# Screenshots and logs go to artifacts/e2e/. Every process the test starts is killed by pid.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

artifacts="$root/artifacts/e2e"
rm -rf "$artifacts"
mkdir -p "$artifacts"
pid_file="$artifacts/pids"

# If the test runner itself dies, kill the process groups it recorded (one "pid what" a line).
cleanup() {
  if [ -f "$pid_file" ]; then
    while read -r pid _; do
      kill -KILL -- "-$pid" 2>/dev/null || true
    done < "$pid_file"
  fi
}
trap cleanup EXIT

echo "== e2e: tools (node 24, code-server, playwright-core, chromium)"
tools="$artifacts/tools.env"
bash scripts/e2e-setup.sh > "$tools"
while IFS='=' read -r name value; do
  case "$name" in
    FLOWRUN_E2E_*) export "$name=$value" ;;
  esac
done < "$tools"

echo "== e2e: flowrun in the repository's interpreter"
python="$root/.venv/bin/python"
if ! "$python" -c "import flowrun" 2>/dev/null; then
  bash scripts/setup.sh
fi

echo "== e2e: extension package"
if [ ! -f scripts/extension.sh ]; then
  echo "e2e: scripts/extension.sh is missing, so there is no .vsix to test; the extension" \
    "(issue: VS Code extension) must land first" >&2
  exit 1
fi
# extension.sh prints the path of the .vsix it made on its last line.
package_log="$artifacts/extension-package.log"
if ! bash scripts/extension.sh package > "$package_log" 2>&1; then
  cat "$package_log" >&2
  echo "e2e: scripts/extension.sh package failed (log above, also in $package_log)" >&2
  exit 1
fi
vsix="$(tail -n 1 "$package_log")"
if [ ! -f "$vsix" ] || [ "${vsix%.vsix}" = "$vsix" ]; then
  cat "$package_log" >&2
  echo "e2e: scripts/extension.sh package did not print the path of a .vsix on its last line" >&2
  exit 1
fi

export FLOWRUN_E2E_VSIX="$vsix"
export FLOWRUN_E2E_PYTHON="$python"
export FLOWRUN_E2E_ARTIFACTS="$artifacts"
export FLOWRUN_E2E_FIXTURES="$root/tests/e2e/workspace"
export FLOWRUN_E2E_PIDS="$pid_file"

echo "== e2e: VS Code (code-server) in Chromium, vsix $vsix"
# FLOWRUN_E2E_ONLY=PATTERN runs only the steps whose name matches (a regular expression, e.g.
# "^10\." for step 10); the editor is still set up. Steps that build on an earlier one need it.
filter=()
if [ -n "${FLOWRUN_E2E_ONLY:-}" ]; then
  filter=(--test-name-pattern "$FLOWRUN_E2E_ONLY")
fi
# Each step has its own timeout; this one only guards against a hung runner (the trap cleans up).
timeout --kill-after=30 900 \
  "$FLOWRUN_E2E_NODE" --test --test-reporter=spec --test-concurrency=1 "${filter[@]}" \
  tests/e2e/flowrun.test.mjs
