"""Issue 14: do longer n-grams help the English `offensive` lexical channel? lexical.py's features are word 1–2-grams
and character 2–5-grams of words; this re-runs offensive_selftrain.py's harness (same rows, selection slice, 5-fold CV
over OLID training rows) with word 1–3-grams and/or character 2–6-grams, each in a cache of its own.

  export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
  (lexical.py prepare and ngram_logits.mjs first, as in offensive_selftrain.py's docstring)
  /usr/bin/python3 models/training/offensive_ngrams.py VARIANT [...]     (word3, char6, both; about 2 min each)
  /usr/bin/python3 models/training/offensive_ngrams.py unseen VARIANT [...]

Each prints the harness's line for the variant as its "baseline" (compare with offensive_selftrain.py's baseline:
selection 75.2, CV 75.0, CV AUC 81.85 on 2026-12-05).
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "models", "training"))
import lexical as L  # noqa: E402
import offensive_selftrain as S  # noqa: E402

VARIANTS = {"word3": (3, 5), "char6": (2, 6), "both": (3, 6)}
FEATURES = L.feature_strings  # lexical.py's own, before use() points the harness at a variant


def use(name):
    words_n, chars_n = VARIANTS[name]
    L.feature_strings = lambda text: FEATURES(text, words_n, chars_n)
    S.CACHE = os.path.join(REPO, "models", "training", "work", f"offensive_ngrams_{name}")
    S.RES = os.path.join(S.CACHE, "results.json")


if __name__ == "__main__":
    if sys.argv[1] == "unseen":
        for name in sys.argv[2:]:
            use(name)
            S.unseen(["baseline"])
    else:
        for name in sys.argv[1:]:
            use(name)
            os.makedirs(S.CACHE, exist_ok=True)
            if not os.path.exists(os.path.join(S.CACHE, "meta.pkl")):
                S.prep()
            print(name, end=": ", flush=True)
            S.run(["baseline"])
