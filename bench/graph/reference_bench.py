"""Times the Python/scipy FastRP reference (packages/graph/reference/fastrp.py) and pycleora on
a CSR graph exported by bench.ts, and checks the reference against the TS embeddings.

    python reference_bench.py <dir>     (dir holds rowptr.u32 cols.i32 vals.f32 keys.txt config.json [ts.f32])
Prints one JSON object."""
import json
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packages/graph/reference"))
from fastrp import fastrp, projection  # noqa: E402


def main(d: Path):
    cfg = json.loads((d / "config.json").read_text())
    rowptr = np.fromfile(d / "rowptr.u32", dtype="<u4").astype(np.int64)
    cols = np.fromfile(d / "cols.i32", dtype="<i4")
    vals = np.fromfile(d / "vals.f32", dtype="<f4").astype(np.float64)
    keys = (d / "keys.txt").read_text().split("\n")
    n = len(keys)
    S = sp.csr_matrix((vals, cols, rowptr), shape=(n, n))
    out = {"nodes": n, "entries": int(S.nnz)}

    t = time.perf_counter()
    R = projection(keys, cfg["dim"], cfg["sparsity"], cfg["seed"])
    out["projection_s"] = time.perf_counter() - t
    times, cpu = [], []
    for _ in range(cfg.get("repeats", 1)):
        t, c = time.perf_counter(), time.process_time()
        E = fastrp(S, R, cfg["iterationWeights"], cfg["normalizationStrength"])
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    out["fastrp_s"] = sorted(times)[len(times) // 2]
    out["fastrp_cpu_s"] = sorted(cpu)[len(cpu) // 2]
    out["fastrp_runs_s"] = times
    ts_path = d / "ts.f32"
    if ts_path.exists():
        ts = np.fromfile(ts_path, dtype="<f4").reshape(n, cfg["dim"])
        out["max_abs_diff_vs_ts"] = float(np.abs(ts - E).max())

    if cfg.get("cleora", False):
        try:
            from pycleora import SparseMatrix, embed_using_baseline_cleora

            coo = sp.triu(S, k=1).tocoo()
            t = time.perf_counter()
            lines = (f"{keys[a]} {keys[b]}" for a, b in zip(coo.row, coo.col))
            m = SparseMatrix.from_iterator(lines, "complex::reflexive::node")
            build = time.perf_counter() - t
            t, c = time.perf_counter(), time.process_time()
            emb = embed_using_baseline_cleora(m, cfg["dim"], len(cfg["iterationWeights"]))
            out["cleora"] = {
                "package": "pycleora==2.0.0",
                "build_s": build,
                "embed_s": time.perf_counter() - t,
                "embed_cpu_s": time.process_time() - c,
                "entities": len(m.entity_ids),
                "shape": list(emb.shape),
                "note": "unweighted edges (Cleora has no edge weights); Markov propagation + L2 normalization per iteration",
            }
        except Exception as e:  # report, never hide
            out["cleora"] = {"error": repr(e)}
    print(json.dumps(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
