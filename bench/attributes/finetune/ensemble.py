"""Averages two taggers' predictions per (title, attribute): each candidate value scores the mean
of the confidences the two gave it (0 from one that did not predict it); the best value wins.

    python ensemble.py A.jsonl B.jsonl OUT.jsonl [weight of A, default 0.5]

Only titles predicted by B are written (B may cover some folds only).
"""
import json
import sys


def load(path):
    out = {}
    for line in open(path):
        if line.strip():
            r = json.loads(line)
            out[r["i"]] = r["values"]
    return out


def main():
    a, b = load(sys.argv[1]), load(sys.argv[2])
    w = float(sys.argv[4]) if len(sys.argv) > 4 else 0.5
    with open(sys.argv[3], "w") as out:
        for i in sorted(b):
            va, vb = a.get(i, {}), b[i]
            values = {}
            for attr in sorted(set(va) | set(vb)):
                cand = {}
                for v, weight in ((va, w), (vb, 1 - w)):
                    if attr in v:
                        raw, conf = v[attr]
                        cand[raw] = cand.get(raw, 0.0) + weight * conf
                raw, conf = max(cand.items(), key=lambda x: x[1])
                values[attr] = [raw, conf]
            out.write(json.dumps({"i": i, "values": values}) + "\n")


if __name__ == "__main__":
    main()
