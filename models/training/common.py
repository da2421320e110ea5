"""Shared helpers for Steward's training scripts (data loading, text normalisation, seeding, paths).

Only the standard library, numpy and (optionally) torch are used. Every loader reads train/validation
files only; test splits are not present in ../shared/datasets and are never looked for.
"""
from __future__ import annotations

import csv
import glob
import hashlib
import json
import os
import random
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "datasets"))
WORK = os.path.join(HERE, "work")
TOKENIZER_DIR = os.path.join(WORK, "tokenizer")
SIGNALS_TOKENIZER_DIR = os.path.join(WORK, "tokenizer_signals")  # signals-0.3: 16k en+zh

csv.field_size_limit(sys.maxsize)

# --------------------------------------------------------------------------------------------
# text normalisation
# --------------------------------------------------------------------------------------------
_WS = re.compile(r"\s+")
_URL = re.compile(r"(https?://\S+|www\.\S+)", re.I)
_MENTION = re.compile(r"@\w+")
_PUNCT = re.compile(r"[^\w\s]", re.U)


def norm_ws(text: str) -> str:
    """Collapse whitespace; used for exact-text overlap checks."""
    return _WS.sub(" ", text).strip()


def match_key(text: str) -> str:
    """Aggressive key used to find the same tweet across datasets
    (@mentions -> @user, URLs removed, lower-cased, punctuation dropped, whitespace collapsed)."""
    t = _URL.sub(" ", text)
    t = re.sub(r"\bURL\b", " ", t)
    t = _MENTION.sub(" user ", t)
    t = t.lower()
    t = _PUNCT.sub(" ", t)
    return norm_ws(t)


def clean_tweet(text: str) -> str:
    """Training-time canonical form of social-media text: the datasets disagree on how mentions and
    links look (@handle / @user / @USER, http://t.co/.. / URL). We map them all to the TweetEval
    convention so the model does not learn dataset artefacts. The runtime MAY apply the same mapping
    (steward.preprocess in config.json); the tokenizer itself does nothing special."""
    t = text.replace("\\n", " ").replace("\\u2019", "\u2019")
    t = _URL.sub("http", t)
    t = re.sub(r"\bURL\b", "http", t)
    t = _MENTION.sub("@user", t)
    return norm_ws(t)


# --------------------------------------------------------------------------------------------
# loaders (each returns plain python lists)
# --------------------------------------------------------------------------------------------

def _lines(path):
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f]


def load_semeval_pool(data, with_file=False):
    """All SemEval-2013..2016 4A tweets: list of (text, label_str), or (text, label_str, file name) with `with_file`."""
    out = []
    for p in sorted(glob.glob(os.path.join(data, "semeval2017_task4a", "*.tsv"))):
        with open(p, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 3:
                    continue
                row = ("\t".join(parts[2:]), parts[1].strip())
                out.append(row + (os.path.basename(p),) if with_file else row)
    return out


def load_tweeteval(data, task, split):
    d = os.path.join(data, f"tweeteval_{task}")
    texts = _lines(os.path.join(d, f"{split}_text.txt"))
    labels = [int(x) for x in _lines(os.path.join(d, f"{split}_labels.txt")) if x.strip() != ""]
    assert len(texts) == len(labels), (task, split, len(texts), len(labels))
    return texts, labels


def load_olid(data):
    rows = []
    with open(os.path.join(data, "olid", "olid-training-v1.0.tsv"), encoding="utf-8") as f:
        header = f.readline()
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 5:
                continue
            rows.append({"text": parts[1], "a": parts[2], "b": parts[3], "c": parts[4]})
    return rows


def load_clinc(data):
    with open(os.path.join(data, "clinc150", "data_full.train_val.json"), encoding="utf-8") as f:
        return json.load(f)


def load_self_dialogue(data, split="train", max_convs=None, with_topic=False):
    """Returns a list of conversations (list of lines), with the upstream filtering rule; with `with_topic`,
    (topic folder, lines) pairs instead."""
    blocked = set(x.strip() for x in _lines(os.path.join(data, "self_dialogue", "blocked_workers.txt")) if x.strip())
    convs = []
    for p in sorted(glob.glob(os.path.join(data, "self_dialogue", split, "corpus", "*", "*.csv"))):
        with open(p, encoding="utf-8", newline="") as f:
            r = csv.DictReader(f)
            cols = [c for c in r.fieldnames if c and c.startswith("Answer.sentence")]
            cols.sort(key=lambda c: int(c[len("Answer.sentence"):]))
            for row in r:
                if (row.get("Reject") or "").strip() or (row.get("WorkerId") or "") in blocked:
                    continue
                lines = [row[c].strip() for c in cols if row.get(c) and row[c].strip() and row[c].strip() != "{}"]
                if lines:
                    convs.append((os.path.basename(os.path.dirname(p)), lines) if with_topic else lines)
                if max_convs and len(convs) >= max_convs:
                    return convs
    return convs


def load_cold(data, split="train"):
    out = []
    with open(os.path.join(data, "cold_zh", f"{split}.csv"), encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            out.append((row["TEXT"], int(row["label"])))
    return out


def carve_band(text: str) -> int:
    """A fixed number in [0, 100) per text (md5), so that every script carves the same validation slices out of
    datasets that ship without one (ChnSentiCorp, TNEWS): the split depends on the text only, not on a seed."""
    return int(hashlib.md5(text.encode("utf-8")).hexdigest()[:8], 16) % 100


# carved bands: [0, 10) is the reported validation slice; ChnSentiCorp [10, 15) selects checkpoints/calibrates
CARVE_VAL = 10
CARVE_SEL = 15


def load_chnsenticorp(data):
    """ChnSentiCorp train.tsv as (text, 'negative'|'positive'). LUGE licence: non-commercial research only."""
    return load_tsv2(os.path.join(data, "chnsenticorp_zh", "train.tsv"))


def load_tnews(data, part="train"):
    """TNEWS headlines (text, label): part 'val' = our carved 10 % validation slice, 'train' = the rest."""
    rows = load_tsv2(os.path.join(data, "tnews_zh", "train.tsv"))
    want_val = part == "val"
    return [r for r in rows if (carve_band(r[0]) < CARVE_VAL) == want_val]


def load_topical_chat(data, files=("valid_freq", "valid_rare", "test_freq")):
    """Topical-Chat turns (message strings) from the conversation files we have (never trained on: the unseen
    benign chat set)."""
    out = []
    for name in files:
        p = os.path.join(data, "topical_chat", "conversations", f"{name}.json")
        if not os.path.exists(p):
            continue
        with open(p, encoding="utf-8") as f:
            d = json.load(f)
        for k in sorted(d):
            out += [t["message"].strip() for t in d[k]["content"] if t.get("message", "").strip()]
    return out


def load_tsv2(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                out.append((parts[0], parts[1]))
    return out


# --------------------------------------------------------------------------------------------
# misc
# --------------------------------------------------------------------------------------------

def seed_everything(seed: int):
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:
        pass
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


class Progress:
    """Prints step/total with rate and ETA, at most every `every` seconds."""

    def __init__(self, total, name="", every=15.0, start_step=0):
        self.total, self.name, self.every = total, name, every
        self.t0 = time.time()
        self.start_step = start_step
        self.last = 0.0

    def __call__(self, step, msg="", force=False, frac=None):
        now = time.time()
        if not force and now - self.last < self.every:
            return
        self.last = now
        done = max(step - self.start_step, 1)
        rate = done / max(now - self.t0, 1e-6)
        eta = (self.total - step) / max(rate, 1e-9)
        if frac is not None and frac > 0:  # time-budgeted runs: ETA from the fraction of the budget used
            eta = min(eta, (now - self.t0) * (1 - frac) / frac)
        print(f"[{self.name}] step {step}/{self.total} {rate:.2f} it/s elapsed {now - self.t0:.0f}s "
              f"ETA {eta / 60:.1f} min {msg}", flush=True)


def atomic_write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
    os.replace(tmp, path)


def run_channel_steps(a, base, prepare, train, select, export):
    """`cmd` of a channel script (ngram.py, lexical.py): prepare | train | select | export, or all of them with the base
    model's logits on the selection texts between prepare and train."""
    if a.cmd in ("prepare", "all"):
        prepare(a)
    if a.cmd == "all":
        base_logits(base, a.work)
    if a.cmd in ("train", "all"):
        train(a)
    if a.cmd in ("select", "all"):
        select(a)
    if a.cmd in ("export", "all"):
        export(a)


def base_logits(model_dir, work):
    """A signals model's logits on work/sel_texts.json -> work/base_logits.json, through Node exactly as the runtime
    computes them (ngram_logits.mjs, q8): the base that the n-gram and lexical channels are mixed with."""
    import subprocess

    subprocess.run(["node", os.path.join(HERE, "ngram_logits.mjs"), model_dir, os.path.join(work, "sel_texts.json"),
                    os.path.join(work, "base_logits.json"), "--dtype", "q8"], check=True)
