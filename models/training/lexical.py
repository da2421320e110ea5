"""The lexical channel of the signals model (signals-0.3.3): a TF-IDF logistic regression over hashed word and
character n-grams, the classic non-pretrained text classifier, mixed with the transformer's logits for English
sentiment and English `offensive`.

  /usr/bin/python3 models/training/lexical.py prepare            training rows + selection texts -> work/lexical
  node models/training/ngram_logits.mjs <bundle> work/lexical/sel_texts.json work/lexical/base_logits.json --dtype q8
  /usr/bin/python3 models/training/lexical.py train              the two regressions, on TRAIN rows only
  /usr/bin/python3 models/training/lexical.py select             mixing weights + offensive thresholds (selection slices)
  /usr/bin/python3 models/training/lexical.py export --bundle DIR   lexical.safetensors + config + parity cases
  (`npm run train -- lexical [--bundle DIR]` runs all of it, then the Node parity check.)

Why: on the held-out-by-source sets the small transformer trained from scratch falls below a plain TF-IDF regression
(SemEval-2015 sentiment 64.8 vs 65.x, OLID gun control 64.3 vs 65.8 at the best threshold); the two make different
mistakes, so their mix beats both.

Features (models/runtime/lexical.ts computes exactly the same; `parity` cases in the config block check it):
- the text as the runtime feeds the signals model (clean_tweet), cut to MAX_CHARS code points, lower-cased;
- word group: tokens = maximal runs of letters, digits and "_" of length >= 2; "w <tok>" unigrams, "b <a> <b>" bigrams;
- char group: every whitespace-separated word padded as " word ", its character 2..5-grams ("c <gram>"; a padded word
  no longer than n is one gram, and longer n are skipped: sklearn's char_wb);
- each feature string -> zlib.crc32(UTF-8) mod the group's buckets; tf = 1 + ln(count); x = tf * idf[bucket],
  L2-normalised per group; idf = ln((1 + N) / (1 + df)) + 1 for buckets seen in >= 2 training texts, else 0.
Logits = x_word . W_word + x_char . W_char + b, one column per output (negative, neutral, positive, offensive).
Sentiment is a multinomial regression; `offensive` an NBSVM-style one (fitted on x ∘ r, r the features' log-count
ratios; r folds into its weights, so the runtime's features do not change).
W is stored int8 with one float scale per column and group, idf uint8 with one scale per group (the signals folder's
size budget); selection and parity use the dequantized numbers.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
import zlib
from collections import Counter

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import ngram_data as N  # noqa: E402
import signals_data as D  # noqa: E402

VERSION = "signals-0.3.3"
MAX_CHARS = 1000
WORD_BUCKETS = 1 << 18
CHAR_BUCKETS = 1 << 18
OUTPUTS = ["negative", "neutral", "positive", "offensive"]
_TOKEN = re.compile(r"[^\W]{2,}")  # letters, digits, "_" (Python's \w; the runtime uses [\p{L}\p{N}_])


def feature_strings(text, word_n=2, char_n=5):
    """(word features, char features) of one text, as strings (before hashing). The runtime's channel
    (models/runtime/lexical.ts) uses the defaults; offensive_ngrams.py tried word_n 3 and char_n 6."""
    t = "".join(list(C.clean_tweet(text))[:MAX_CHARS]).lower()
    toks = _TOKEN.findall(t)
    words = [f"w {w}" for w in toks] + [f"b {a} {b}" for a, b in zip(toks, toks[1:])]
    if word_n >= 3:
        words += [f"t {a} {b} {c}" for a, b, c in zip(toks, toks[1:], toks[2:])]
    chars = []
    for w in t.split():
        p = f" {w} "
        # every window of 2..char_n characters (sklearn's char_wb: a padded word of at most char_n counts once as itself)
        for n in range(2, min(char_n, len(p)) + 1):
            chars.extend(f"c {p[i: i + n]}" for i in range(len(p) - n + 1))
    return words, chars


def _counts(strings, buckets):
    return Counter(zlib.crc32(s.encode("utf-8")) % buckets for s in strings)


def hashed(texts):
    """Per text: (Counter of word buckets, Counter of char buckets)."""
    out = []
    for t in texts:
        w, c = feature_strings(t)
        out.append((_counts(w, WORD_BUCKETS), _counts(c, CHAR_BUCKETS)))
    return out


def idf_of(feats):
    n = len(feats)
    idf = []
    for g, B in ((0, WORD_BUCKETS), (1, CHAR_BUCKETS)):
        df = np.zeros(B, np.int64)
        for f in feats:
            df[list(f[g].keys())] += 1
        v = np.log((1.0 + n) / (1.0 + df)) + 1.0
        v[df < 2] = 0.0
        idf.append(v.astype(np.float32))
    return idf


def matrix(feats, idf):
    """CSR matrix [texts, WORD_BUCKETS + CHAR_BUCKETS] of L2-normalised (per group) sublinear tf-idf."""
    import scipy.sparse as sp

    rows, cols, vals = [], [], []
    for r, f in enumerate(feats):
        for g, off in ((0, 0), (1, WORD_BUCKETS)):
            if not f[g]:
                continue
            ks = np.fromiter(f[g].keys(), np.int64)
            x = (1.0 + np.log(np.fromiter(f[g].values(), np.float64))) * idf[g][ks]
            nrm = math.sqrt(float((x * x).sum()))
            if nrm == 0:
                continue
            rows.append(np.full(len(ks), r))
            cols.append(ks + off)
            vals.append(x / nrm)
    cat = lambda a: np.concatenate(a) if a else np.zeros(0)  # noqa: E731
    return sp.csr_matrix((cat(vals), (cat(rows), cat(cols))), shape=(len(feats), WORD_BUCKETS + CHAR_BUCKETS))


def logits_numpy(ch, texts):
    """The shipped computation (dequantized int8 weights), as models/runtime/lexical.ts does it."""
    X = matrix(hashed(texts), ch["idf"])
    W = np.concatenate([ch["w_word"], ch["w_char"]], 0)
    return np.asarray(X @ W) + ch["bias"]


def _is_en(t):
    return not re.search(r"[\u3400-\u9fff\u3040-\u30ff\uac00-\ud7af]", t)


def build(data, seed, hateval=False):
    """The signals training rows and selection slices (ngram_data.build: same seed, same held-out slices)."""
    d = N.build(data, seed=seed, log=lambda *x: None)
    olid = set(C.match_key(C.clean_tweet(r["text"])) for r in C.load_olid(data))
    sent = [(t, y, w) for t, y, w in d["sent_train"] if _is_en(t)]
    # offensive: OLID's labels (weight 1) and the weak negatives signals.py trains on too, ordinary English chat lines
    # and requests (their weight, 0.5): without them the regression flags chat words the tweets never showed benign
    off = [(t, y[0], m[0]) for t, y, m in d["mod_train"]
           if m[0] > 0 and (C.match_key(C.clean_tweet(t)) in olid or (m[0] < 1 and not any(y) and _is_en(t))
                            or (hateval and y[3] > 0.5 and _is_en(t)))]
    return sent, off, d["sel"]


def prepare(a):
    sent, off, sel = build(a.data, a.seed, a.hateval)
    os.makedirs(a.work, exist_ok=True)
    keep = {k: sel[k] for k in ("sent_en", "olid")}
    C.atomic_write_json(os.path.join(a.work, "sel_texts.json"), {k: v[0] for k, v in keep.items()})
    C.atomic_write_json(os.path.join(a.work, "sel_labels.json"), {k: v[1] for k, v in keep.items()})
    print("training rows: sentiment (English)", len(sent), "offensive (OLID + weak chat negatives)", len(off),
          "selection:", {k: len(v[0]) for k, v in keep.items()})


def train(a):
    from sklearn.linear_model import LogisticRegression

    t0 = time.time()
    sent, off, _ = build(a.data, a.seed, a.hateval)
    feats_s, feats_o = hashed([t for t, _, _ in sent]), hashed([t for t, _, _ in off])
    idf = idf_of(feats_s + feats_o)
    Xs, Xo = matrix(feats_s, idf), matrix(feats_o, idf)
    print(f"features: {Xs.shape[0]} + {Xo.shape[0]} texts, {Xs.nnz + Xo.nnz} entries ({time.time() - t0:.0f} s)", flush=True)
    ms = LogisticRegression(C=a.C, max_iter=3000, class_weight="balanced")
    ms.fit(Xs, np.array([y for _, y, _ in sent]), sample_weight=np.array([w for _, _, w in sent]))
    yo, wo = np.array([y > 0.5 for _, y, _ in off]), np.array([w for _, _, w in off])
    r = nb_ratios(Xo, yo, wo, a.nb_alpha) if a.nb_alpha > 0 else np.ones(Xo.shape[1])
    mo = LogisticRegression(C=a.C, max_iter=3000, class_weight="balanced")
    mo.fit(Xo.multiply(r).tocsr(), yo, sample_weight=wo)
    print(f"fitted ({time.time() - t0:.0f} s)", flush=True)
    # the NB scaling folds into the weights: (x ∘ r) · w = x · (r ∘ w), so the runtime computes the same features
    W = np.concatenate([ms.coef_.T, (mo.coef_.ravel() * r)[:, None]], 1).astype(np.float32)  # [buckets, 4]
    b = np.concatenate([ms.intercept_, mo.intercept_]).astype(np.float32)
    os.makedirs(a.work, exist_ok=True)
    np.savez(os.path.join(a.work, "lexical.npz"), W=W, b=b, idf_word=idf[0], idf_char=idf[1])
    C.atomic_write_json(os.path.join(a.work, "train_report.json"), {
        "sentiment_rows": len(sent), "offensive_rows": len(off),
        "offensive_weak_negatives": sum(1 for _, _, w in off if w < 1), "hateval_positives": a.hateval,
        "offensive_nb_alpha": a.nb_alpha, "C": a.C, "class_weight": "balanced",
        "sentiment_iterations": int(ms.n_iter_.max()), "offensive_iterations": int(mo.n_iter_.max())})


def nb_ratios(X, y, w, alpha):
    """NBSVM's log-count ratios (Wang & Manning 2012) of each feature's presence in positive vs negative rows (with
    the rows' weights and add-alpha smoothing): the regression is fitted on x ∘ r."""
    B = (X > 0).astype(np.float64)
    p = alpha + np.asarray(B[y].multiply(w[y][:, None]).sum(0)).ravel()
    q = alpha + np.asarray(B[~y].multiply(w[~y][:, None]).sum(0)).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


def quantize(W):
    scale = np.maximum(np.abs(W).max(0), 1e-8) / 127.0
    q = np.clip(np.round(W / scale), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def load_channel(work):
    z = np.load(os.path.join(work, "lexical.npz"))
    W = z["W"]
    qw, sw = quantize(W[:WORD_BUCKETS])
    qc, sc = quantize(W[WORD_BUCKETS:])
    iq, iscale = [], []
    for v in (z["idf_word"], z["idf_char"]):
        sc_ = np.float32(max(float(v.max()), 1e-8) / 255.0)
        iq.append(np.clip(np.round(v / sc_), 0, 255).astype(np.uint8))
        iscale.append(sc_)
    return {"q_word": qw, "s_word": sw, "q_char": qc, "s_char": sc, "w_word": qw * sw, "w_char": qc * sc,
            "bias": z["b"].astype(np.float32), "idf_q": iq, "idf_scale": np.array(iscale, np.float32),
            "idf": [iq[0].astype(np.float32) * iscale[0], iq[1].astype(np.float32) * iscale[1]]}


def _smooth_argmax(grid, scores):
    """The weight whose score averaged with both grid neighbours is highest (a guard against a lucky spike of one small
    slice). The grid's ends have one neighbour only and are not candidates: on a plateau, a one-sided average would
    favour them, and an end drops one of the two models altogether."""
    s = np.asarray(scores)
    sm = [s[i - 1: i + 2].mean() for i in range(1, len(s) - 1)]
    return float(grid[1 + int(np.argmax(sm))])


def select(a):
    ch = load_channel(a.work)
    texts = json.load(open(os.path.join(a.work, "sel_texts.json")))
    labels = json.load(open(os.path.join(a.work, "sel_labels.json")))
    base = json.load(open(os.path.join(a.work, "base_logits.json")))
    cfg = json.load(open(os.path.join(a.bundle, "config.json")))["steward"]
    adj = np.array(cfg.get("sentiment_logit_adjustment", {}).get("en", [0, 0, 0]), np.float32)
    lex = {k: logits_numpy(ch, v) for k, v in texts.items()}
    grid = np.round(np.arange(0.0, 1.001, 0.05), 2)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    ys = np.array(labels["sent_en"])
    bs = np.array(base["sent_en"]["sent"], np.float32) + adj
    mix_s = lambda w: (1 - w) * bs + w * lex["sent_en"][:, :3]  # noqa: E731
    cs = [D.macro_recall(ys, mix_s(w).argmax(1)) for w in grid]
    yo = np.array([y[0] for y in labels["olid"]])
    bo = np.array(base["olid"]["mod"], np.float32)[:, 0]
    mix_o = lambda w: (1 - w) * bo + w * lex["olid"][:, 3]  # noqa: E731
    co = [D.best_f1_threshold(yo, sig(mix_o(w)))[1] for w in grid]
    ws, wo = _smooth_argmax(grid, cs), _smooth_argmax(grid, co)
    p = sig(mix_o(wo))
    t, f = D.best_f1_threshold(yo, p)
    tp, prec, rec = D.precise_threshold(yo, p, beta=0.5, min_t=t)
    sel = {"weights": {"sentiment": ws, "offensive": wo},
           "curves": {"grid": grid.tolist(), "sentiment_en_macro_recall": [round(x, 4) for x in cs],
                      "offensive_en_macro_f1": [round(x, 4) for x in co]},
           "selection_base_vs_mix": {"sentiment_macro_recall": [round(cs[0], 4), round(D.macro_recall(ys, mix_s(ws).argmax(1)), 4)],
                                     "offensive_macro_f1": [round(co[0], 4), round(f, 4)]},
           "offensive_thresholds": {"f1": round(t, 3), "default": round(tp, 3), "train_dev_macro_f1": round(f, 4),
                                    "train_dev_precision_at_default": round(prec, 4),
                                    "train_dev_recall_at_default": round(rec, 4)}}
    C.atomic_write_json(os.path.join(a.work, "selection.json"), sel)
    print(json.dumps({k: v for k, v in sel.items() if k != "curves"}, indent=1))
    for k in ("sentiment_en_macro_recall", "offensive_en_macro_f1"):
        print(f"  {k}: " + " ".join(f"{w:g}:{s:.3f}" for w, s in zip(grid, sel["curves"][k])))


PARITY_TEXTS = [
    "I love this, best day ever!!", "you are such an idiot @someone http://t.co/x", "meh. it's ok I guess",
    "Kill the process and restart it", "this is f*cking stupid", "Ça va? Très bien, merci", "a", "",
    "Don't   you   DARE   touch   my   sandwich", "shit shit shit", "我想去一个风景优美的地方", "under_score words 42 x2",
]


def _safetensors(path, tensors):
    """A minimal safetensors writer (the format: 8-byte little-endian header size, JSON header, raw data)."""
    codes = {np.dtype(np.float32): "F32", np.dtype(np.int8): "I8", np.dtype(np.uint8): "U8"}
    header, blobs, off = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        raw = arr.tobytes()
        header[name] = {"dtype": codes[arr.dtype], "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for raw in blobs:
            f.write(raw)
    os.replace(path + ".tmp", path)


def export(a):
    ch = load_channel(a.work)
    sel = json.load(open(os.path.join(a.work, "selection.json")))
    tr = json.load(open(os.path.join(a.work, "train_report.json")))
    _safetensors(os.path.join(a.bundle, "lexical.safetensors"), {
        "idf_word": ch["idf_q"][0], "idf_char": ch["idf_q"][1], "idf_scale": ch["idf_scale"],
        "w_word": ch["q_word"], "w_char": ch["q_char"],
        "scale_word": ch["s_word"], "scale_char": ch["s_char"], "bias": ch["bias"]})
    cfg_path = os.path.join(a.bundle, "config.json")
    cfg = json.load(open(cfg_path))
    st = cfg["steward"]
    base_version = st.get("lexical_channel", {}).get("base", st["version"])
    st["version"] = VERSION
    th = sel["offensive_thresholds"]
    st["default_thresholds"]["offensive"] = th["default"]
    st.setdefault("f1_thresholds", {})["offensive"] = th["f1"]
    lg = logits_numpy(ch, PARITY_TEXTS)
    st["lexical_channel"] = {
        "file": "lexical.safetensors", "base": base_version, "languages": ["en"], "outputs": OUTPUTS,
        "mix": {"sentiment": sel["weights"]["sentiment"], "offensive": sel["weights"]["offensive"]},
        "max_chars": MAX_CHARS, "buckets": {"word": WORD_BUCKETS, "char": CHAR_BUCKETS},
        "features": "lower-cased; word: 'w <tok>' + 'b <a> <b>' over [\\p{L}\\p{N}_]{2,}; char: 'c <gram>', 2..5-grams "
                    "of ' word ' per whitespace word (char_wb); crc32(UTF-8) mod buckets; tf 1 + ln(count) x idf, "
                    "L2 per group",
        "training": {**tr, "thresholds": th, "selection": sel["selection_base_vs_mix"]},
        "note": ("TF-IDF logistic regression (lexical.py), mixed per output as (1 - w) * transformer logit + w * "
                 "lexical logit for English text only (sentiment after the logit adjustment); weights and the "
                 "offensive thresholds chosen on the train selection slices"),
        "parity": [{"text": t, "logits": [round(float(x), 5) for x in row]} for t, row in zip(PARITY_TEXTS, lg)],
    }
    C.atomic_write_json(cfg_path, cfg)
    print("exported", a.bundle, os.path.getsize(os.path.join(a.bundle, "lexical.safetensors")), "bytes; mix",
          st["lexical_channel"]["mix"], "offensive thresholds", th)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["prepare", "train", "select", "export", "all"])
    ap.add_argument("--data", default=C.DEFAULT_DATA)
    ap.add_argument("--work", default=os.path.join(C.WORK, "lexical"))
    ap.add_argument("--bundle", default=os.path.join(C.REPO, "models", "bundled", "signals"))
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--hateval", action="store_true",
                    help="HatEval hate tweets as offensive positives too (as signals.py weak-labels them)")
    ap.add_argument("--nb-alpha", type=float, default=1.0,
                    help="offensive: NBSVM log-count-ratio scaling with this smoothing (0 = a plain regression)")
    ap.add_argument("--C", type=float, default=1.0, help="inverse L2 strength (sklearn's default; not tuned)")
    a = ap.parse_args()
    C.run_channel_steps(a, a.bundle, prepare, train, select, export)


if __name__ == "__main__":
    main()
