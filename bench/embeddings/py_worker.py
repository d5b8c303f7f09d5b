"""Python side of bench/embeddings: the reference pipeline (tokenizers + onnxruntime + numpy
pooling, packages/embeddings/reference/reference_embedder.py) driven over stdin/stdout by
run.ts, so both sides run in the same benchmark, round by round, on the same files.

Commands (one JSON object per line), answers one JSON line each:
  {"cmd": "load", "model": id, "intra": 1, "inter": 1, "texts": path}
  {"cmd": "chunk", "start": i, "end": j, "out": path|null}  one batch, texts[i:j]; vectors appended to out
  {"cmd": "chunks", "batch": 32, "out": path|null}    corpus order, one call per chunk
  {"cmd": "corpus", "batch": 32, "out": path|null}    sorted by token count first, as the TS side
"""
import json
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "packages" / "embeddings" / "reference"))
from reference_embedder import ReferenceEmbedder  # noqa: E402

state = {}


def answer(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    msg = json.loads(line)
    cmd = msg["cmd"]
    if cmd == "load":
        state["embedder"] = ReferenceEmbedder(msg["model"], msg["intra"], msg["inter"])
        state["texts"] = json.loads(pathlib.Path(msg["texts"]).read_text(encoding="utf-8"))
        emb = state["embedder"]
        emb.embed_batch(state["texts"][:32])  # warm-up, as on the TS side
        import onnxruntime, tokenizers

        answer({"ok": True, "onnxruntime": onnxruntime.__version__, "tokenizers": tokenizers.__version__, "numpy": np.__version__})
    elif cmd == "chunk":
        t0 = time.perf_counter()
        vectors = state["embedder"].embed_batch(state["texts"][msg["start"] : msg["end"]])
        ms = (time.perf_counter() - t0) * 1000
        if msg.get("out"):
            with open(msg["out"], "ab") as f:
                f.write(vectors.astype("<f4").tobytes())
        answer({"ms": ms})
    elif cmd in ("chunks", "corpus"):
        emb, texts, batch = state["embedder"], state["texts"], msg["batch"]
        latencies = []
        start = time.perf_counter()
        if cmd == "chunks":
            parts = []
            for i in range(0, len(texts), batch):
                t0 = time.perf_counter()
                parts.append(emb.embed_batch(texts[i : i + batch]))
                latencies.append((time.perf_counter() - t0) * 1000)
            vectors = np.concatenate(parts)
        else:
            # Tokenize everything once (timed), sort by token count, batch neighbours: as the TS Embedder does.
            encs = emb.tokenizer.encode_batch(texts)
            order = sorted(range(len(texts)), key=lambda i: (len(encs[i].ids), i))
            vectors = np.zeros((len(texts), emb.spec["dim"]), dtype=np.float32)
            for i in range(0, len(order), batch):
                idx = order[i : i + batch]
                t0 = time.perf_counter()
                vectors[idx] = emb.embed_encodings([encs[j] for j in idx])
                latencies.append((time.perf_counter() - t0) * 1000)
        seconds = time.perf_counter() - start
        if msg.get("out"):
            vectors.astype("<f4").tofile(msg["out"])
        answer({"seconds": seconds, "latenciesMs": latencies})
    elif cmd == "exit":
        break
