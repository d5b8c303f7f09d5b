#!/usr/bin/env bash
# bench/graph: FastRP (TS, batch and incremental) against the Python/scipy reference and
# pycleora in the same run, on a seeded synthetic power-law graph (≥ 1M edges) and the
# real DIGINETICA graph; then the link-prediction evaluation. Results in bench/results/graph.*.
#   bench/graph/run.sh            (BENCH_GRAPH_SCALE=0.2 for a quick run)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# `cleora` itself has no installable distribution on PyPI for this Python (checked with pip);
# pycleora is the maintained Python package of the same library.
export GRAPH_BENCH_PY="$(scripts/python-env.sh bench/graph/requirements.txt)"
nice -n 10 npx tsx bench/graph/bench.ts
nice -n 10 npx tsx bench/graph/eval.ts
