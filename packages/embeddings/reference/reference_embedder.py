"""The reference pipeline: HF `tokenizers` + Python onnxruntime + numpy pooling, run on the very
files that @affinity/embeddings loads. Shared by make_fixtures.py and bench/embeddings.
"""
import json
import os
import pathlib

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

REGISTRY = json.loads((pathlib.Path(__file__).resolve().parent.parent / "src" / "models.json").read_text())


def model_spec(model_id):
    for m in REGISTRY["models"]:
        if m["id"] == model_id:
            return m
    raise SystemExit(f"unknown model {model_id}")


def model_dir(model_id):
    cache = os.environ.get("AFFINITY_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "affinity")
    path = pathlib.Path(cache) / "models" / model_id
    spec = model_spec(model_id)
    missing = [f["name"] for f in spec["files"] if not (path / f["name"]).exists()]
    if missing:
        raise SystemExit(f"{model_id}: missing {missing} in {path}; run packages/embeddings/scripts/fetch-model.sh {model_id}")
    return path


def load_tokenizer(model_id):
    spec = model_spec(model_id)
    tok = Tokenizer.from_file(str(model_dir(model_id) / spec["tokenizer"]["file"]))
    # sentence-transformers truncates at the model's max_seq_length (256 for all-MiniLM-L6-v2),
    # not at tokenizer.json's 128, and pads each batch to its longest member.
    tok.enable_truncation(max_length=spec["maxSequenceLength"])
    tok.no_padding()
    return tok


class ReferenceEmbedder:
    def __init__(self, model_id, intra_threads=1, inter_threads=1):
        self.spec = model_spec(model_id)
        self.tokenizer = load_tokenizer(model_id)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = intra_threads
        opts.inter_op_num_threads = inter_threads
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(str(model_dir(model_id) / self.spec["onnx"]["file"]), opts, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def embed_batch(self, texts):
        return self.embed_encodings(self.tokenizer.encode_batch(texts))

    def embed_encodings(self, encs):
        length = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), length), dtype=np.int64)
        mask = np.zeros((len(encs), length), dtype=np.int64)
        for row, e in enumerate(encs):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run([self.spec["onnx"]["output"]], {k: v for k, v in feeds.items() if k in self.inputs})[0]
        # sentence-transformers Pooling(mean) then Normalize: masked mean, clamp 1e-9; x / max(|x|, 1e-12).
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        if self.spec["normalize"] == "l2":
            pooled = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.astype(np.float32)

    def embed(self, texts, batch_size=32):
        return np.concatenate([self.embed_batch(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)])
