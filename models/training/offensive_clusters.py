"""Issue 14: do word clusters learnt from unlabelled text help the English `offensive` lexical channel generalise?

The lexical channel (lexical.py) only knows the words OLID's 13k training tweets used; an insult it never saw gives it
nothing. Word clusters (k-means over skip-gram vectors trained on the unlabelled text here) let a rare or unseen word
share the weight of the cluster it falls in, the classic semi-supervised feature for tweets (Turian et al. 2010;
Owoputi et al. 2013). This script adds hashed cluster unigrams and bigrams as a third feature group beside lexical.py's
words and characters and judges the variants with offensive_selftrain.py's harness (same rows, selection slice, paired
bootstrap and 5-fold CV over OLID training rows); val and gun control are scored once, after choosing.

  export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
  (the four prep steps of offensive_selftrain.py's docstring first: lexical.py prepare, ngram_logits.mjs, prep,
   ngram_logits.mjs on the unseen texts)
  /usr/bin/python3 models/training/offensive_clusters.py corpus      (unlabelled text, tokenised as lexical.py does)
  /usr/bin/python3 models/training/offensive_clusters.py vectors     (gensim skip-gram; Debian's python3-gensim)
  /usr/bin/python3 models/training/offensive_clusters.py clusters K [K ...]
  /usr/bin/python3 models/training/offensive_clusters.py run [VARIANT ...]      (no names: all)
  /usr/bin/python3 models/training/offensive_clusters.py unseen VARIANT [...]

Corpus: the harness's unlabelled pool (48,821 tweets: SemEval sentiment train, TweetEval irony / emotion train,
TweetTopic; every OLID tweet and TweetEval validation text removed), the offensive training rows (OLID train outside
the selection slice and gun control, the weak chat negatives), Self-dialogue train and DailyDialog train. Nothing from
TweetEval validation, the OLID selection slice, the gun-control tweets or Topical-Chat.
"""
from __future__ import annotations

import json
import os
import pickle
import sys
import time
import zlib
from collections import Counter

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "models", "training"))
import common as C  # noqa: E402
import lexical as L  # noqa: E402
import offensive_selftrain as S  # noqa: E402

OUT = os.path.join(REPO, "models", "training", "work", "offensive_clusters")
BASE_CACHE = S.CACHE
CLU_BUCKETS = 1 << 16
SETS = ("off", "sel", "val", "gun", "pool")


def tokens(text):
    t = "".join(list(C.clean_tweet(text))[: L.MAX_CHARS]).lower()
    return L._TOKEN.findall(t)


def unlabelled_texts():
    """The English text outside every judging set: the harness's unlabelled pool, the offensive training rows,
    Self-dialogue train and DailyDialog train, minus the selection slice, validation and gun-control texts."""
    m = pickle.load(open(os.path.join(BASE_CACHE, "meta.pkl"), "rb"))
    texts = list(m["texts"]["pool"]) + list(m["texts"]["off"])
    for conv in C.load_self_dialogue(C.DEFAULT_DATA, "train"):
        texts.extend(conv)
    with open(os.path.join(C.DEFAULT_DATA, "dailydialog", "dialogues_train.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                texts.extend(t["utterance"] for t in json.loads(line)["turns"])
    bad = set(map(C.match_key, m["texts"]["sel"])) | set(map(C.match_key, m["texts"]["val"]))
    bad |= set(map(C.match_key, m["texts"]["gun"]))
    return [t for t in texts if C.match_key(t) not in bad]


def corpus():
    os.makedirs(OUT, exist_ok=True)
    n = 0
    with open(os.path.join(OUT, "corpus.txt"), "w", encoding="utf-8") as f:
        for t in unlabelled_texts():
            toks = tokens(t)
            if toks:
                f.write(" ".join(toks) + "\n")
                n += 1
    print("corpus lines", n)


def vectors():
    from gensim.models import Word2Vec

    t0 = time.time()
    sents = [line.split() for line in open(os.path.join(OUT, "corpus.txt"), encoding="utf-8")]
    print("tokens", sum(map(len, sents)), flush=True)
    w2v = Word2Vec(sents, vector_size=100, window=5, min_count=3, sg=1, negative=10, epochs=8, workers=2, seed=1)
    w2v.wv.save(os.path.join(OUT, "w2v.kv"))
    print(f"vocab {len(w2v.wv)} ({time.time() - t0:.0f} s)")


def clusters(ks):
    from gensim.models import KeyedVectors
    from sklearn.cluster import MiniBatchKMeans

    wv = KeyedVectors.load(os.path.join(OUT, "w2v.kv"))
    V = wv.vectors / np.linalg.norm(wv.vectors, axis=1, keepdims=True)
    for k in ks:
        t0 = time.time()
        km = MiniBatchKMeans(n_clusters=k, random_state=1, batch_size=4096, n_init=3, max_iter=200).fit(V)
        json.dump(dict(zip(wv.index_to_key, map(int, km.labels_))), open(os.path.join(OUT, f"clusters_{k}.json"), "w"))
        print(f"K={k} ({time.time() - t0:.0f} s)", flush=True)


def cluster_matrix(k):
    """[texts, CLU_BUCKETS] per set: sublinear tf-idf of hashed cluster unigrams and bigrams, L2-normalised."""
    path = os.path.join(OUT, f"Xc_{k}.npz")
    m = pickle.load(open(os.path.join(BASE_CACHE, "meta.pkl"), "rb"))
    if os.path.exists(path):
        z = np.load(path, allow_pickle=True)
        return {s: z[s].item() for s in SETS}
    cl = json.load(open(os.path.join(OUT, f"clusters_{k}.json")))
    feats = {}
    for s in SETS:
        rows = []
        for t in m["texts"][s]:
            c = [cl[w] for w in tokens(t) if w in cl]
            strs = [f"k {a}" for a in c] + [f"kb {a} {b}" for a, b in zip(c, c[1:])]
            rows.append(Counter(zlib.crc32(x.encode()) % CLU_BUCKETS for x in strs))
        feats[s] = rows
    df = np.zeros(CLU_BUCKETS, np.int64)
    for f in feats["off"] + feats["pool"]:
        df[list(f.keys())] += 1
    n = len(feats["off"]) + len(feats["pool"])
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    idf[df < 2] = 0.0
    out = {}
    for s in SETS:
        r_, c_, v_ = [], [], []
        for r, f in enumerate(feats[s]):
            if not f:
                continue
            ks = np.fromiter(f.keys(), np.int64)
            x = (1.0 + np.log(np.fromiter(f.values(), np.float64))) * idf[ks]
            nrm = float(np.sqrt((x * x).sum()))
            if nrm == 0:
                continue
            r_.append(np.full(len(ks), r)); c_.append(ks); v_.append(x / nrm)
        cat = lambda a: np.concatenate(a) if a else np.zeros(0)  # noqa: E731
        out[s] = sp.csr_matrix((cat(v_), (cat(r_), cat(c_))), shape=(len(feats[s]), CLU_BUCKETS))
    np.savez(path, **{s: np.array(out[s], dtype=object) for s in SETS})
    return out


def embed_matrix():
    """[texts, 100] per set: the mean of the unit skip-gram vectors of a text's known words, L2-normalised."""
    from gensim.models import KeyedVectors

    wv = KeyedVectors.load(os.path.join(OUT, "w2v.kv"))
    V = wv.vectors / np.linalg.norm(wv.vectors, axis=1, keepdims=True)
    m = pickle.load(open(os.path.join(BASE_CACHE, "meta.pkl"), "rb"))
    out = {}
    for s in SETS:
        E = np.zeros((len(m["texts"][s]), V.shape[1]), np.float32)
        for r, t in enumerate(m["texts"][s]):
            ids = [wv.key_to_index[w] for w in tokens(t) if w in wv.key_to_index]
            if ids:
                v = V[ids].mean(0)
                E[r] = v / max(float(np.linalg.norm(v)), 1e-9)
        out[s] = sp.csr_matrix(E)
    return out


VARIANTS = {"baseline": {}}
for s_ in (0.5, 1.0, 2.0):
    VARIANTS[f"embedding x{s_}"] = {"clu": ("emb", s_)}
for k in (64, 256, 1024):
    for s in (0.5, 1.0):
        VARIANTS[f"clusters K={k} x{s}"] = {"clu": (k, s)}

_current = {"clu": None}
_base_fit = S.fit
_base_cols = L.WORD_BUCKETS + L.CHAR_BUCKETS


def _fit(X, y, w, **kw):
    """S.fit on the word + char columns, and on the cluster block at scale s when the variant has one (folded back:
    the returned weights apply to the unscaled stacked matrix)."""
    clu = _current["clu"]
    if clu is None:
        coef, b = _base_fit(X[:, :_base_cols], y, w, **kw)
        return np.r_[coef, np.zeros(X.shape[1] - _base_cols)], b
    k, s = clu
    Xs = sp.hstack([X[:, :_base_cols], X[:, _base_cols:] * s]).tocsr()
    coef, b = _base_fit(Xs, y, w, **kw)
    coef = coef.copy()
    coef[_base_cols:] *= s
    return coef, b


def _base_load():
    """S.load, from the harness's own cache whatever S.CACHE points at now."""
    m = pickle.load(open(os.path.join(BASE_CACHE, "meta.pkl"), "rb"))
    return m, {s: sp.load_npz(os.path.join(BASE_CACHE, f"X_{s}.npz")).tocsr() for s in SETS}


def _load_with(k):
    m, X = _base_load()
    if k is None:
        return m, {s: X[s] for s in SETS}
    Xc = embed_matrix() if k == "emb" else cluster_matrix(k)
    return m, {s: sp.hstack([X[s], Xc[s]]).tocsr() for s in SETS}


def _harness():
    os.makedirs(OUT, exist_ok=True)
    S.fit = _fit
    S.VARIANTS = VARIANTS
    S.RES = os.path.join(OUT, "results.json")


def _select(name):
    """Points the harness at variant `name`: its fit, its matrices and a cache dir per feature block."""
    v = VARIANTS[name]
    _current["clu"] = v.get("clu")
    k = v["clu"][0] if "clu" in v else None
    S.load = lambda: _load_with(k)
    S.CACHE = os.path.join(OUT, f"k{k}")
    os.makedirs(S.CACHE, exist_ok=True)


def run(names):
    _harness()
    for name in names or list(VARIANTS):
        _select(name)
        teachers = os.path.join(S.CACHE, "teachers.pkl")
        if not os.path.exists(teachers):  # no pseudo-label variant here: S.run needs the keys, not the fits
            pickle.dump({"full": {"pool_p": None}, "mix": {"pool_p": None}, **{i: {"pool_p": None} for i in range(5)}},
                        open(teachers, "wb"))
        S.run([name])


def unseen(names):
    _harness()
    for name in names:
        _select(name)
        # S.unseen reads the transformer's logits on val / gun control from its cache dir
        logits = os.path.join(S.CACHE, "unseen_base_logits.json")
        if not os.path.exists(logits):
            os.symlink(os.path.join(BASE_CACHE, "unseen_base_logits.json"), logits)
        S.unseen([name])


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "corpus":
        corpus()
    elif cmd == "vectors":
        vectors()
    elif cmd == "clusters":
        clusters([int(x) for x in args])
    elif cmd == "run":
        run(args)
    elif cmd == "unseen":
        unseen(args)
    else:
        raise SystemExit(__doc__)
