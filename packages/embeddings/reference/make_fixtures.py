"""Writes the committed fixtures that let the unit tests check @affinity/embeddings against the
reference implementation without Python:

  test/fixtures/parity-texts.json          product titles + edge-case texts, their reference token ids
  test/fixtures/parity-<model>.f32         reference embeddings, float32 little-endian, row-major
  test/fixtures/unicode-probe.json         digests of the reference ids of "a<c>b" for every code point
                                           of planes 0-1 and a sample of the others

    packages/embeddings/scripts/fetch-model.sh
    PY="$(scripts/python-env.sh packages/embeddings/reference/requirements.txt)"
    "$PY" packages/embeddings/reference/make_fixtures.py
"""
import csv
import hashlib
import json
import pathlib
import random
import sys

import numpy as np
import onnxruntime
import tokenizers

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from reference_embedder import REGISTRY, ReferenceEmbedder, load_tokenizer, model_dir  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[3]
FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures"
MODEL = REGISTRY["defaultModel"]


def product_titles():
    rng = random.Random(20251126)
    with open(ROOT / "data/uci-online-retail/online_retail_random_sample_2709.csv", encoding="latin-1", newline="") as f:
        # Kept raw: trailing and doubled spaces are part of what the enricher will see.
        uci = sorted({r["Description"] for r in csv.DictReader(f) if r["Description"]})
    with open(ROOT / "data/oa-mine/train.jsonl", encoding="utf-8") as f:
        oa = sorted({json.loads(line)["input"] for line in f})
    oa_non_ascii = [t for t in oa if any(ord(c) > 127 for c in t)]
    oa_rest = [t for t in oa if t not in set(oa_non_ascii)]
    picked = rng.sample(uci, 110) + oa_non_ascii + rng.sample(oa_rest, 120)
    # Variants of real titles with what scraped catalog text carries: accents, odd spacing, case.
    variants = []
    for t in rng.sample(uci, 12):
        variants.append("  " + t.title().replace(" ", "\u00a0 ", 1) + "\t")
    for t in rng.sample(oa_rest, 12):
        variants.append(t.replace("e", "é", 2).replace("a", "à", 1).replace(" ", "  ", 2) + " !!")
    return picked + variants


def edge_cases():
    long_title = " ".join(["Vintage Crème Brûlée ramekin, hand-painted (set of 4) – 100% stoneware"] * 30)
    return [
        ("empty", ""),
        ("whitespace only", "  \t\n\u3000 "),
        ("very long text is truncated", long_title),
        ("accents", "Crème Brûlée Ramekin – Set of 4, Façade Décor, ÅNGSTRÖM Ørsted Æble Ñandú"),
        ("decomposed accents", "Cafe\u0301 n\u0303 a\u0308\u0304"),
        ("turkish and german casing", "İSTANBUL ıstakoz Straße GRÖSSE"),
        ("greek final sigma", "ΟΔΟΣ Σίσυφος ΆΝΘΟΣ"),
        ("cyrillic", "Москва Чай Зелёный"),
        ("chinese characters are split", "中文产品标题 mixed 日本語テキスト 漢字"),
        ("hangul arabic thai devanagari", "한국어 상품 عربي ภาษาไทย हिन्दी"),
        ("punctuation", "Hey!!! (limited) [edition] — 50% off… «quoted» ‘single’ “double” $9.99 #1 @home a&b c/d e|f ~g^h `i` <j> k=l +m"),
        ("unknown symbols and emoji", "🎄 Christmas 🎁 Gift ☃ ⁂ \u0378 \ue000 ✓✔"),
        ("rare words become ## pieces", "supercalifragilisticexpialidocious xqzvbnmkj Affinityzation"),
        ("word over 100 chars is [UNK]", "a" * 101 + " " + "b" * 100),
        ("control and format chars", "a\u0000b\u0007c\u200bd\u00ade\ufefff\ufffdg\u202eh"),
        ("tabs newlines nbsp", "A\tB\nC\r\nD 5\u00a0kg 10\u202fcm"),
        ("special tokens in text", "[CLS] inside [SEP] and [MASK] but not [mask] or [ UNK] [PAD][UNK]"),
        ("fullwidth ligatures superscripts", "ＡＢＣ１２３ ﬁsh ﬂour m² H₂O ½ ⅓"),
        ("numbers and units", "2.2-Pound 12oz 3x4cm 1/2\" 0.08 Fl Oz 1,000mg"),
        ("apostrophes", "Women's Men’s Kids` O'Neill"),
    ]


def unicode_probe(tok):
    tok.no_truncation()
    cps = [c for c in range(0x20000) if not 0xD800 <= c <= 0xDFFF] + list(range(0x20000, 0x110000, 61))
    blocks = {}
    for start in range(0, len(cps), 20000):
        chunk = cps[start : start + 20000]
        for c, enc in zip(chunk, tok.encode_batch(["a" + chr(c) + "b" for c in chunk])):
            blocks.setdefault(c >> 12, hashlib.sha256()).update(f"{c}:{','.join(map(str, enc.ids))}\n".encode())
    return {"sampleStepAbovePlane1": 61, "blockBits": 12, "sha256": {str(k): h.hexdigest() for k, h in sorted(blocks.items())}}


def main():
    FIXTURES.mkdir(parents=True, exist_ok=True)
    tok = load_tokenizer(MODEL)
    titles = product_titles()
    cases = edge_cases()
    texts = titles + [t for _, t in cases]
    ids = [e.ids for e in tok.encode_batch(texts)]
    spec = next(m for m in REGISTRY["models"] if m["id"] == MODEL)
    meta = {
        "generator": "packages/embeddings/reference/make_fixtures.py",
        "tokenizers": tokenizers.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
        "model": MODEL,
        "modelSha256": next(f["sha256"] for f in spec["files"] if f["name"] == spec["onnx"]["file"]),
        "maxSequenceLength": spec["maxSequenceLength"],
        "productTitles": len(titles),
        "dim": spec["dim"],
        "cases": [{"name": n, "index": len(titles) + i} for i, (n, _) in enumerate(cases)],
        "texts": texts,
        "ids": ids,
    }
    (FIXTURES / "parity-texts.json").write_text(json.dumps(meta, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    vectors = ReferenceEmbedder(MODEL).embed(texts, batch_size=32)
    vectors.astype("<f4").tofile(FIXTURES / f"parity-{MODEL}.f32")
    (FIXTURES / "unicode-probe.json").write_text(json.dumps(unicode_probe(load_tokenizer(MODEL)), indent=0) + "\n")
    print(f"{len(texts)} texts ({len(titles)} product titles), {vectors.shape} vectors from {model_dir(MODEL)}")


if __name__ == "__main__":
    main()
