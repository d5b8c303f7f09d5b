#!/usr/bin/env bash
# Installs what the project needs on a fresh machine, idempotently:
#   node_modules (npm ci, re-run when package-lock.json changes), Kafka jars, Redis,
#   and the embedding models. Safe to run before every command.
#   scripts/ensure-deps.sh [node|kafka|redis|models|browser|all]...
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/infra/scripts/lib.sh"
# onnxruntime-node's install script would download CUDA files (not reachable here, not needed:
# the CPU binaries ship in the package).
export ONNXRUNTIME_NODE_INSTALL=skip

node_deps() {
  command -v node >/dev/null 2>&1 || die "Node.js 20+ is required (https://nodejs.org)"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js 20+ is required, found $(node -v)"
  local stamp="$ROOT/node_modules/.affinity-lock-sha"
  local want
  want="$(sha256sum "$ROOT/package-lock.json" | cut -c1-64)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing npm dependencies (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund >&2)
    echo "$want" >"$stamp"
  fi
}

# Headless Chromium from the OS packages: the evaluation report's rendering test opens it.
browser() {
  command -v chromium >/dev/null 2>&1 || { log "installing chromium (headless browser for the report test)"; apt_install chromium; }
}

models() {
  local fetch="$ROOT/packages/embeddings/scripts/fetch-model.sh"
  # The default model, and fp32 for the model-upgrade (backfill) test.
  "$fetch" all-minilm-l6-v2-int8 all-minilm-l6-v2-fp32 >/dev/null
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(all)
for t in "${targets[@]}"; do
  case "$t" in
    node) node_deps ;;
    kafka) "$ROOT/infra/scripts/kafka-install.sh" >/dev/null ;;
    redis) command -v redis-server >/dev/null 2>&1 || { log "installing redis-server"; apt_install redis-server redis-tools; } ;;
    models) models ;;
    browser) browser ;;
    all)
      node_deps
      "$ROOT/infra/scripts/kafka-install.sh" >/dev/null
      command -v redis-server >/dev/null 2>&1 || { log "installing redis-server"; apt_install redis-server redis-tools; }
      models
      browser
      ;;
    *) die "unknown target $t" ;;
  esac
done
