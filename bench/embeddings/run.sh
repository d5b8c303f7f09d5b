#!/usr/bin/env bash
# bench/embeddings: @affinity/embeddings vs Python onnxruntime + tokenizers, same model files,
# same run. Fetches the models (verified, cached), sets up the pinned Python env, then runs
# run.ts, which writes bench/results/embeddings.{json,md}.
#   bench/embeddings/run.sh                      # defaults: 192 texts, 3 rounds, batch 32, 1 thread
#   BENCH_THREADS=2 BENCH_TEXTS=1024 bench/embeddings/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
packages/embeddings/scripts/fetch-model.sh all-minilm-l6-v2-int8 all-minilm-l6-v2-fp32 >/dev/null
PY="$(scripts/python-env.sh packages/embeddings/reference/requirements.txt)"
export PY
exec nice -n 10 npx tsx bench/embeddings/run.ts
