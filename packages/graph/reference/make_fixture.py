"""Writes test/fixtures/fastrp-parity.json.gz: the first N DIGINETICA interactions as a
weighted user-item graph (type weights, exponential decay to the newest event), its R and
the reference embeddings. The TS test rebuilds the graph with BehaviourGraph from the same
CSV rows and must match within 1e-4 without Python.

    PY="$(scripts/python-env.sh packages/graph/reference/requirements.txt)"
    "$PY" packages/graph/reference/make_fixture.py
"""
import base64
import gzip
import json
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from diginetica import load
from fastrp import fastrp, projection

N_EVENTS = 1500
OPTIONS = {"dim": 32, "iterationWeights": [0.0, 1.0, 1.0, 1.0], "normalizationStrength": -0.5, "sparsity": 3, "seed": 42}
HALF_LIFE_MS = 14 * 24 * 3600 * 1000
TYPE_WEIGHT = {"view": 1.0, "click": 2.0, "add_to_cart": 4.0, "purchase": 8.0}


def main():
    events = load()[:N_EVENTS]
    newest = max(e[0] for e in events)
    keys, index = [], {}

    def node(k):
        if k not in index:
            index[k] = len(keys)
            keys.append(k)
        return index[k]

    weights = {}
    for ts, _eid, typ, user, item in events:
        u, i = node(f"u:{user}"), node(f"i:{item}")
        w = TYPE_WEIGHT[typ] * 2.0 ** (-(newest - ts) / HALF_LIFE_MS)
        weights[(u, i)] = weights.get((u, i), 0.0) + w
    rows, cols, vals = [], [], []
    for (u, i), w in weights.items():
        rows += [u, i]
        cols += [i, u]
        vals += [w, w]
    n = len(keys)
    S = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    R = projection(keys, OPTIONS["dim"], OPTIONS["sparsity"], OPTIONS["seed"])
    E = fastrp(S, R, OPTIONS["iterationWeights"], OPTIONS["normalizationStrength"])
    b64 = lambda a: base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode()
    out = {
        "source": "data/diginetica (first %d interactions by time), reference/make_fixture.py" % N_EVENTS,
        "events": N_EVENTS,
        "halfLifeMs": HALF_LIFE_MS,
        "options": OPTIONS,
        "keys": keys,
        "edges": len(weights),
        "R": b64(R),
        "embeddings": b64(E),
    }
    path = Path(__file__).resolve().parents[1] / "test/fixtures/fastrp-parity.json.gz"
    path.write_bytes(gzip.compress(json.dumps(out).encode(), 9, mtime=0))
    print(f"{path}: {n} nodes, {len(weights)} edges, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
