"""How hard the unseen offensive set is for a non-pretrained classifier: the OLID gun-control tweets (the topic left
out of every signals training run, signals_data.HELDOUT_OLID_RE) against a plain TF-IDF logistic regression.

  /usr/bin/python3 models/training/olid_baselines.py        (needs python3-sklearn; about a minute)

Prints macro-F1 (at 0.5 and at the best threshold, an oracle) of sklearn's word 1-2-gram + char_wb 2-5-gram TF-IDF
regression on TweetEval offensive val and on the gun-control tweets:
1. trained on OLID without the topic (and without TweetEval val): what the signals model faces;
2. 5-fold over the topic, the other four fifths of it IN training: roughly what the same method can reach on these
   tweets when it has seen the topic.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import signals_data as D  # noqa: E402


def _model():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    return make_pipeline(
        make_union(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                   TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)),
        LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced"))


def _f1(y, p):
    from sklearn.metrics import f1_score

    at_half = 100 * f1_score(y, p > 0.5, average="macro")
    best = max(100 * f1_score(y, p > t, average="macro") for t in np.arange(0.1, 0.9, 0.02))
    return f"macro-F1 {at_half:.1f} at 0.5, {best:.1f} at the best threshold"


def main():
    data = C.DEFAULT_DATA
    rows = C.load_olid(data)
    vt, vy = C.load_tweeteval(data, "offensive", "val")
    val_keys = set(map(C.match_key, vt))
    topic = D.HELDOUT_OLID_RE
    rest = [(r["text"], int(r["a"] == "OFF")) for r in rows
            if not topic.search(r["text"]) and C.match_key(r["text"]) not in val_keys]
    gun = [(r["text"], int(r["a"] == "OFF")) for r in rows if topic.search(r["text"])]
    gy = np.array([y for _, y in gun])
    m = _model().fit([t for t, _ in rest], [y for _, y in rest])
    print(f"trained without the topic ({len(rest)} tweets):")
    print(f"  tweeteval_offensive val ({len(vt)}): {_f1(np.array(vy), m.predict_proba(vt)[:, 1])}")
    print(f"  gun-control tweets ({len(gun)}): {_f1(gy, m.predict_proba([t for t, _ in gun])[:, 1])}")
    idx = np.random.default_rng(0).permutation(len(gun))
    p = np.zeros(len(gun))
    for fold in np.array_split(idx, 5):
        held = set(fold.tolist())
        train = rest + [gun[i] for i in idx if i not in held]
        mf = _model().fit([t for t, _ in train], [y for _, y in train])
        p[fold] = mf.predict_proba([gun[i][0] for i in fold])[:, 1]
    print(f"5-fold, four fifths of the topic in training: gun-control tweets {_f1(gy, p)}")


if __name__ == "__main__":
    main()
