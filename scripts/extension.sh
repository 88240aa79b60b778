#!/usr/bin/env bash
# The VS Code extension: `test` (type check, lint, unit tests) or `package` (the .vsix,
# with the flowrun server wheel and the workflow JSON Schema bundled).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ext="$root/extension"
python="$root/.venv/bin/python"
cd "$ext"

# npm ci only when node_modules is missing or package-lock.json changed.
ensure_node_modules() {
  local stamp="node_modules/.flowrun-lock-sha256"
  local want
  want="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "== npm ci (extension)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
  fi
}

run_tests() {
  echo "== tsc --noEmit"
  npx --no-install tsc --noEmit
  echo "== eslint, prettier --check"
  npx --no-install eslint src bench
  npx --no-install prettier --check --log-level warn "src/**/*.ts" "bench/**/*.ts"
  echo "== extension unit tests"
  npm test --silent
  echo "== esbuild"
  npm run --silent compile
}

# The server wheel, built from a snapshot of the sources so the work tree gets no build/.
build_wheel() {
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  mkdir -p "$work/src"
  cp "$root/pyproject.toml" "$root/README.md" "$work/src/"
  (cd "$root" && tar --exclude=__pycache__ --exclude='*.egg-info' -cf - server) | tar -xf - -C "$work/src"
  "$python" -m pip wheel --quiet --no-deps -w "$work/dist" "$work/src"
  rm -rf bundled
  mkdir -p bundled
  cp "$work"/dist/flowrun-*.whl bundled/
  echo "bundled $(ls bundled)"
}

write_schema() {
  mkdir -p schemas
  if "$python" -m flowrun schema > schemas/workflow.schema.json.tmp 2> schemas/schema.err; then
    mv schemas/workflow.schema.json.tmp schemas/workflow.schema.json
    rm -f schemas/schema.err
  else
    echo "warning: 'flowrun schema' failed; bundling a minimal schema:" >&2
    cat schemas/schema.err >&2
    rm -f schemas/workflow.schema.json.tmp schemas/schema.err
    printf '%s\n' '{"$schema": "http://json-schema.org/draft-07/schema#", "title": "Flowrun workflow", "type": "object"}' \
      > schemas/workflow.schema.json
  fi
}

case "${1:-test}" in
  test)
    ensure_node_modules
    run_tests
    ;;
  package)
    ensure_node_modules
    build_wheel
    write_schema
    version="$(node -p 'require("./package.json").version')"
    npx --no-install vsce package --no-dependencies --skip-license --allow-missing-repository \
      -o "flowrun-$version.vsix" >/dev/null
    node esbuild.mjs   # back to the development build (with source map)
    echo "$ext/flowrun-$version.vsix"
    ;;
  *)
    echo "usage: $0 test|package" >&2
    exit 2
    ;;
esac
