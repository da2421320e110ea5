"""Builds the chit-chat bank: (message, human reply) pairs from self_dialogue's train split.

    /usr/bin/python3 models/training/chitchat_bank.py [--data DIR] [--out models/bundled/chitchat/bank.jsonl.gz]
        [--pairs 100000] [--seed 1234]

The first line is a header (`{"source", "license", "split", ...}`); each further line is `{"c", "r"}`: one line of a conversation (`c`, what a member would say) and the line after it (`r`, the reply
Steward may give). Filters: both lines 2..40 words, the reply 3..30 words and not a bare "{}" placeholder; pairs
deduplicated on lower-cased, whitespace-collapsed (c, r). Conversations whose md5 band (common.carve_band of the
joined lines) is below HELDOUT_BAND are left out of the bank: they are the train slice the runtime's weights are
tuned on (`npx tsx bench/chitchat-eval.ts --split train-heldout`), so tuning never reads bank pairs nor
validation. Deterministic: same data, same seed, same bytes (gzip mtime 0).
"""
from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random

from common import DEFAULT_DATA, REPO, carve_band, load_self_dialogue, norm_ws

HELDOUT_BAND = 5


def pairs_of(convs):
    seen = set()
    out = []
    for lines in convs:
        if carve_band("\n".join(lines)) < HELDOUT_BAND:
            continue
        for c, r in zip(lines, lines[1:]):
            c, r = norm_ws(c), norm_ws(r)
            cw, rw = len(c.split()), len(r.split())
            if not (2 <= cw <= 40 and 3 <= rw <= 30) or "{}" in r or "{}" in c:
                continue
            key = (c.lower(), r.lower())
            if key in seen:
                continue
            seen.add(key)
            out.append((c, r))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--out", default=os.path.join(REPO, "models", "bundled", "chitchat", "bank.jsonl.gz"))
    ap.add_argument("--pairs", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    convs = load_self_dialogue(args.data, "train")
    pairs = pairs_of(convs)
    total = len(pairs)
    random.Random(args.seed).shuffle(pairs)
    pairs = pairs[: args.pairs]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    buf = io.BytesIO()
    header = {"source": "self_dialogue", "license": "BSD-3-Clause", "split": "train",
              "heldout_band": HELDOUT_BAND, "seed": args.seed, "pairs": len(pairs)}
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write((json.dumps(header) + "\n").encode("utf-8"))
        for c, r in pairs:
            gz.write((json.dumps({"c": c, "r": r}, ensure_ascii=False) + "\n").encode("utf-8"))
    with open(args.out, "wb") as f:
        f.write(buf.getvalue())
    print(json.dumps({"conversations": len(convs), "eligible_pairs": total, "pairs": len(pairs),
                      "bytes": len(buf.getvalue()), "out": os.path.relpath(args.out, REPO)}))


if __name__ == "__main__":
    main()
