"""Writes the fixture that checks Embedder.embedWordsInContext against the reference: texts given as
words (pre-tokenized, as `tokenizers` encodes with is_pretokenized=True), each word's vector the
mean of the model's last hidden state over its word pieces.

  test/fixtures/word-vectors.json         the model, the texts as word lists
  test/fixtures/word-vectors-<model>.f32  reference word vectors, float32 little-endian, row-major

    PY="$(scripts/python-env.sh packages/embeddings/reference/requirements.txt)"
    "$PY" packages/embeddings/reference/make_word_fixtures.py
"""
import json
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from reference_embedder import REGISTRY, ReferenceEmbedder  # noqa: E402

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures"
MODEL = REGISTRY["defaultModel"]
# Product titles from the parity fixture (OA-Mine and UCI), the accented and oddly cased among them.
PICK = 16


def main():
    texts = json.loads((FIXTURES / "parity-texts.json").read_text(encoding="utf-8"))["texts"]
    titles = [t for t in texts[:250] if t.strip()]
    chosen = titles[100:100 + PICK // 2] + [t for t in titles if any(ord(c) > 127 for c in t)][: PICK // 2]
    words = [t.split() for t in chosen]
    ref = ReferenceEmbedder(MODEL)
    rows = []
    for w in words:
        enc = ref.tokenizer.encode(w, is_pretokenized=True)
        feeds = {"input_ids": np.array([enc.ids], dtype=np.int64), "attention_mask": np.ones((1, len(enc.ids)), dtype=np.int64)}
        feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
        hidden = ref.session.run([ref.spec["onnx"]["output"]], {k: v for k, v in feeds.items() if k in ref.inputs})[0][0]
        for i in range(len(w)):
            at = [t for t, wid in enumerate(enc.word_ids) if wid == i]
            rows.append(hidden[at].mean(axis=0) if at else np.zeros(hidden.shape[1], dtype=np.float32))
    (FIXTURES / "word-vectors.json").write_text(json.dumps({"generator": "packages/embeddings/reference/make_word_fixtures.py", "model": MODEL, "words": words}, ensure_ascii=False) + "\n", encoding="utf-8")
    np.stack(rows).astype("<f4").tofile(FIXTURES / f"word-vectors-{MODEL}.f32")
    print(f"{len(words)} texts, {len(rows)} word vectors")


if __name__ == "__main__":
    main()
