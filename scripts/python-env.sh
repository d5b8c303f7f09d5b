#!/usr/bin/env bash
# Creates (once) a Python virtualenv in the cache and installs the given requirements files
# into it; prints the path of its python. Used by reference scripts and benchmarks only:
# tests never need Python (reference outputs are committed fixtures).
#   PY="$(scripts/python-env.sh bench/embeddings/requirements.txt)"
# AFFINITY_VENV names another venv in the cache, for requirements too big to share (torch).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${AFFINITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/affinity}"
VENV="$CACHE/${AFFINITY_VENV:-venv}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  mkdir -p "$CACHE"
  "$PYTHON" -m venv "$VENV" >&2
fi
for req in "$@"; do
  [ -f "$req" ] || req="$ROOT/$req"
  stamp="$VENV/.installed-$(sha256sum "$req" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    "$VENV/bin/pip" install -q -r "$req" >&2
    touch "$stamp"
  fi
done
echo "$VENV/bin/python"
