"""How the OLID gun-control tweets (our topic-shift check for English `offensive`, issue 14) are labelled, next to the
rest of OLID's training file: the share of each label that carries an explicit marker of offence (a profanity or a
common insult word), and a fixed random sample of the tweets labelled offensive, to read against the annotation
guideline (OFF = profanity, or a targeted insult or threat).

  /usr/bin/python3 models/training/olid_gun_audit.py [--data DIR] [--sample 40] [--seed 7] [--analyze]

`--analyze` also runs the tweets through `steward analyze --json` (the shipped models, default thresholds) and prints
the precision and recall of "any label flagged" against OFF (2026-12-04: 73.9 / 33.1).

On 2026-12-04: OFF tweets with a marker 14.2 % in the gun-control subset vs 27.0 % in the rest; NOT 1.3 % vs 2.1 %.
Of the 40 sampled OFF tweets (seed 7), about 15 hold a profanity or an insult and about 20 neither (e.g. "This is Gun
Control!", "Chicago has record number of homicides! Their gun control laws are not working!").
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import signals_data as D  # noqa: E402

MARKER = re.compile(
    r"\b(fuck\w*|shit\w*|sh\*t|bitch\w*|asshole\w*|dumbass|bullshit|crap|damn|dick\w*|idiot\w*|moron\w*|stupid|"
    r"retard\w*|scum\w*|libtard\w*)\b",
    re.I,
)


def share(rows, label):
    of = [r for r in rows if r["a"] == label]
    return len(of), sum(1 for r in of if MARKER.search(r["text"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=C.DEFAULT_DATA)
    ap.add_argument("--sample", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--analyze", action="store_true")
    a = ap.parse_args()
    rows = C.load_olid(a.data)
    gun = [r for r in rows if D.HELDOUT_OLID_RE.search(r["text"])]
    rest = [r for r in rows if not D.HELDOUT_OLID_RE.search(r["text"])]
    for name, part in (("gun control", gun), ("rest of OLID training", rest)):
        for label in ("OFF", "NOT"):
            n, marked = share(part, label)
            print(f"{name:22s} {label}: {n:5d} tweets, {marked:5d} with a marker ({100 * marked / max(1, n):.1f} %)")
    off = [r for r in gun if r["a"] == "OFF"]
    random.seed(a.seed)
    print(f"\n{a.sample} gun-control tweets labelled OFF (seed {a.seed}); * = a marker:")
    for i, r in enumerate(random.sample(off, min(a.sample, len(off)))):
        print(f"{i:3d}{'*' if MARKER.search(r['text']) else ' '} {r['text'][:200]}")
    if a.analyze:
        flagged = analyzed(gun)
        truth = [r["a"] == "OFF" for r in gun]
        tp = sum(1 for f, t in zip(flagged, truth) if f and t)
        print(f"\nsteward analyze, any label flagged vs OFF: precision {100 * tp / max(1, sum(flagged)):.1f}, "
              f"recall {100 * tp / max(1, sum(truth)):.1f} (n={len(gun)})")


def analyzed(rows):
    """Whether the shipped runtime flags each tweet (any label), through `steward analyze --json`."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    lines = "".join(re.sub(r"\s+", " ", r["text"]) + "\n" for r in rows)
    out = subprocess.run(["node", "bin/steward.js", "analyze", "--json", "-"], cwd=repo, input=lines, text=True,
                         capture_output=True, check=True, env={**os.environ, "LOG_LEVEL": "warn"}).stdout
    return [len((json.loads(l).get("moderation") or {}).get("flaggedLabels", [])) > 0 for l in out.strip().split("\n")]


if __name__ == "__main__":
    main()
