"""Issue 14: does self-training (pseudo-labelled unlabelled tweets) or a regularisation change improve the ranking of the
English `offensive` lexical channel? Features are exactly lexical.py's (L.hashed / L.matrix, idf over the sentiment +
offensive training texts as lexical.train computes it), so the runtime would need no change.

  export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1          (about 15 minutes of one core in all; run with nice on a shared box)
  /usr/bin/python3 models/training/lexical.py prepare
  node models/training/ngram_logits.mjs models/bundled/signals models/training/work/lexical/sel_texts.json \
       models/training/work/lexical/base_logits.json --dtype q8
  /usr/bin/python3 models/training/offensive_selftrain.py prep          (features, the unlabelled pool, the text files below)
  W=models/training/work/offensive_selftrain
  node models/training/ngram_logits.mjs models/bundled/signals $W/pool_texts.json $W/pool_base_logits.json --dtype q8
  node models/training/ngram_logits.mjs models/bundled/signals $W/unseen_texts.json $W/unseen_base_logits.json --dtype q8
  /usr/bin/python3 models/training/offensive_selftrain.py run baseline [VARIANT ...]   (no names: all; see VARIANTS)
  /usr/bin/python3 models/training/offensive_selftrain.py unseen VARIANT [...]   (val + gun control, once, after choosing)
  /usr/bin/python3 models/training/offensive_selftrain.py table                 (prints the markdown table)

Run on 2026-12-05 for issue 14: 29 variants, none gained beyond the selection slice's noise or at all in CV (best 75.1
vs 75.0), so lexical.py was left as it is; the table is in models/training/README.md.

Measures used for CHOICES (train hold-outs only):
  sel_mix    the `olid` selection slice (865 tweets, 8 % train hold-out), 0.1/0.9-style mix with the transformer's q8
             logits (models/training/work/lexical/base_logits.json), mix weight by lexical._smooth_argmax, macro-F1 at
             the best threshold (exactly what lexical.py select reports)
  sel_lex    the same slice, lexical channel alone, best-threshold macro-F1; sel_auc its ROC AUC
  cv_best    5-fold CV over OLID training rows + selection slice (weak negatives always in training; the teacher of a
             pseudo-label variant is re-fitted per fold on that fold's training rows), pooled out-of-fold
             best-threshold macro-F1; cv_auc the pooled AUC
  boot       paired bootstrap (1,000 resamples of the selection slice) of sel_mix(variant) - sel_mix(baseline) with the
             threshold re-chosen in each resample: mean and 5 / 95 percentiles
Unseen (reported, never used to choose): val / gun at the selection-chosen threshold and at their own best threshold.
"""
from __future__ import annotations

import json
import os
import pickle
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "models", "training"))
import common as C  # noqa: E402
import lexical as L  # noqa: E402
import signals_data as D  # noqa: E402

CACHE = os.path.join(REPO, "models", "training", "work", "offensive_selftrain")
RES = os.path.join(CACHE, "results.json")
WORK = os.path.join(REPO, "models", "training", "work", "lexical")
SEED = 1234
sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731


# ------------------------------------------------------------------------------------------------ data
def prep():
    os.makedirs(CACHE, exist_ok=True)
    data = C.DEFAULT_DATA
    t0 = time.time()
    sent, off, sel = L.build(data, SEED)
    olid_keys = set(C.match_key(C.clean_tweet(r["text"])) for r in C.load_olid(data))
    is_olid = np.array([(w == 1.0 and C.match_key(C.clean_tweet(t)) in olid_keys) for t, _, w in off])
    vt, vy = C.load_tweeteval(data, "offensive", "val")
    gun = D.heldout_sets(data)["olid_gun_control"]
    # unlabelled in-domain tweets: SemEval sentiment training texts (already in the idf), TweetEval irony / emotion
    # train, TweetTopic train; minus anything OLID (incl. val, gun control), any TweetEval val text, duplicates
    bad = set(olid_keys) | set(map(C.match_key, vt))
    for task in ("sentiment", "offensive", "hate", "irony", "emotion"):
        bad |= set(map(C.match_key, C.load_tweeteval(data, task, "val")[0]))
    pool, src, seen = [], [], set()
    cand = [(t, "semeval") for t, _, _ in sent]
    for task in ("irony", "emotion"):
        cand += [(C.clean_tweet(t), task) for t in C.load_tweeteval(data, task, "train")[0]]
    cand += [(C.clean_tweet(json.loads(l)["text"]), "topic") for l in
             open(os.path.join(data, "tweet_topic_xl_en", "en_train.jsonl"), encoding="utf-8") if l.strip()]
    for t, s in cand:
        k = C.match_key(t)
        if not k or k in bad or k in seen:
            continue
        seen.add(k)
        pool.append(t)
        src.append(s)
    print("pool", len(pool), {s: src.count(s) for s in set(src)}, flush=True)
    texts = {"off": [t for t, _, _ in off], "sel": sel["olid"][0], "val": vt, "gun": gun[0], "pool": pool}
    feats = {k: L.hashed(v) for k, v in texts.items()}
    print(f"hashed ({time.time() - t0:.0f} s)", flush=True)
    idf = L.idf_of(L.hashed([t for t, _, _ in sent]) + feats["off"])  # as lexical.train: sentiment + offensive rows
    for k, f in feats.items():
        sp.save_npz(os.path.join(CACHE, f"X_{k}.npz"), L.matrix(f, idf))
    base = json.load(open(os.path.join(WORK, "base_logits.json")))
    assert json.load(open(os.path.join(WORK, "sel_texts.json")))["olid"] == sel["olid"][0]
    meta = {"off_y": [int(y > 0.5) for _, y, _ in off], "off_w": [w for _, _, w in off], "off_is_olid": is_olid.tolist(),
            "sel_y": [int(y[0] > 0.5) for y in sel["olid"][1]], "val_y": [int(y) for y in vy], "gun_y": gun[1],
            "sel_base": np.array(base["olid"]["mod"], np.float32)[:, 0].tolist(), "pool_src": src,
            "texts": texts}
    pickle.dump(meta, open(os.path.join(CACHE, "meta.pkl"), "wb"))
    # the inputs of ngram_logits.mjs (the transformer's q8 logits on the pool and on the two unseen sets)
    json.dump({"pool": pool}, open(os.path.join(CACHE, "pool_texts.json"), "w"))
    json.dump({"val": list(vt), "gun": list(gun[0])}, open(os.path.join(CACHE, "unseen_texts.json"), "w"))
    print(f"done ({time.time() - t0:.0f} s)")


def load():
    m = pickle.load(open(os.path.join(CACHE, "meta.pkl"), "rb"))
    X = {k: sp.load_npz(os.path.join(CACHE, f"X_{k}.npz")).tocsr() for k in ("off", "sel", "val", "gun", "pool")}
    return m, X


# ------------------------------------------------------------------------------------------------ model
def fit(X, y, w, C_=1.0, alpha=1.0, nb_rows=None, penalty="l2", cw="balanced", gscale=None):
    """lexical.train's offensive fit; returns the folded weight vector and bias (x . coef + b = logit)."""
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y, bool)
    w = np.asarray(w, np.float64)
    if alpha > 0:
        nr = np.ones(len(y), bool) if nb_rows is None else nb_rows
        r = L.nb_ratios(X[nr], y[nr], w[nr], alpha)
    else:
        r = np.ones(X.shape[1])
    if gscale is not None:  # per-group column scale (= a per-group L2 strength); folds into the weights too
        r = r * np.r_[np.full(L.WORD_BUCKETS, gscale[0]), np.full(L.CHAR_BUCKETS, gscale[1])]
    m = LogisticRegression(C=C_, max_iter=3000, class_weight=cw, penalty=penalty,
                           solver="liblinear" if penalty == "l1" else "lbfgs")
    m.fit(X.multiply(r).tocsr(), y, sample_weight=w)
    return m.coef_.ravel() * r, float(m.intercept_[0])


def logit(model, X):
    return np.asarray(X @ model[0]).ravel() + model[1]


def auc(y, s):
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s))


# ------------------------------------------------------------------------------------------------ variants
# pseudo-label variants: teacher = the baseline fit on the same training rows; pool rows with p >= hi -> 1, p <= lo
# -> 0, weight pw ("soft": the teacher's probability as the label, both classes weighted pw*|p-0.5|*2 would be
# another; here soft = duplicate row with weights pw*p and pw*(1-p) for rows outside (lo, hi))
VARIANTS = {
    "baseline": {},
    "C=0.5": {"C": 0.5}, "C=2": {"C": 2.0}, "C=4": {"C": 4.0},
    "alpha=0.5": {"alpha": 0.5}, "alpha=2": {"alpha": 2.0},
    "no class weight": {"cw": None},
    "word x2": {"gscale": (2.0, 1.0)}, "char x2": {"gscale": (1.0, 2.0)},
    "word x0.5": {"gscale": (0.5, 1.0)}, "char x0.5": {"gscale": (1.0, 0.5)},
}
for hi, lo in ((0.9, 0.1), (0.95, 0.05), (0.8, 0.2), (0.9, 0.02), (0.9, 0.2), (0.9, 0.3), (0.7, 0.2)):
    for pw in (0.25, 0.5, 1.0):
        VARIANTS[f"pl hi={hi} lo={lo} w={pw}"] = {"pl": (hi, lo, pw)}
for pw in (0.25, 0.5):
    VARIANTS[f"pl pos-only hi=0.9 w={pw}"] = {"pl": (0.9, -1.0, pw)}
    VARIANTS[f"pl neg-only lo=0.1 w={pw}"] = {"pl": (2.0, 0.1, pw)}
    VARIANTS[f"pl hi=0.9 lo=0.1 w={pw} NB gold-only"] = {"pl": (0.9, 0.1, pw), "nb_gold": True}
# the transformer+lexical mix as the teacher (selection slice only: the transformer trained on the CV folds)
for hi, lo in ((0.9, 0.1), (0.8, 0.2), (0.9, 0.2)):
    for pw in (0.25, 0.5, 1.0):
        VARIANTS[f"mixteacher hi={hi} lo={lo} w={pw}"] = {"pl": (hi, lo, pw), "teacher": "mix"}


def pseudo_rows(p, hi, lo, pw):
    pos, neg = p >= hi, p <= lo
    idx = np.where(pos | neg)[0]
    return idx, pos[idx].astype(int), np.full(len(idx), pw)


def train_variant(v, Xtr, ytr, wtr, Xpool, teacher_p=None):
    kw = {k: v[k] for k in ("C", "alpha", "penalty", "cw", "gscale") if k in v}
    kw = {("C_" if k == "C" else k): x for k, x in kw.items()}
    if "pl" not in v:
        return fit(Xtr, ytr, wtr, **kw), 0
    hi, lo, pw = v["pl"]
    idx, yp, wp = pseudo_rows(teacher_p, hi, lo, pw)
    X = sp.vstack([Xtr, Xpool[idx]]).tocsr()
    y = np.r_[ytr, yp]
    w = np.r_[wtr, wp]
    nb = np.r_[np.ones(len(ytr), bool), np.zeros(len(idx), bool)] if v.get("nb_gold") else None
    return fit(X, y, w, nb_rows=nb, **kw), (int(yp.sum()), int(len(yp) - yp.sum()))


def mix_select(yo, bo, lo_):
    grid = np.round(np.arange(0.0, 1.001, 0.05), 2)
    co = [D.best_f1_threshold(yo, sig((1 - w) * bo + w * lo_))[1] for w in grid]
    wo = L._smooth_argmax(grid, co)
    t, f = D.best_f1_threshold(yo, sig((1 - wo) * bo + wo * lo_))
    return wo, t, f


def best_f1_vec(y, p, idxs):
    """best-threshold macro-F1 for each bootstrap resample (rows of idxs)."""
    ts = np.linspace(0.05, 0.95, 91)
    Y = y[idxs].astype(bool)  # [B, n]
    P = p[idxs]
    out = np.zeros(len(idxs))
    best = np.full(len(idxs), -1.0)
    for t in ts:
        pr = P >= t
        tp = (Y & pr).sum(1); fp = (~Y & pr).sum(1); fn = (Y & ~pr).sum(1); tn = (~Y & ~pr).sum(1)
        f1p = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
        f1n = 2 * tn / np.maximum(2 * tn + fn + fp, 1)
        best = np.maximum(best, (f1p + f1n) / 2)
    out[:] = best
    return out


def teacher_probs(m, X, key, model, extra=None):
    return sig(logit(model, X["pool"]))


def run(names):
    m, X = load()
    yo, wo_, is_olid = np.array(m["off_y"]), np.array(m["off_w"]), np.array(m["off_is_olid"])
    ysel, bsel = np.array(m["sel_y"]), np.array(m["sel_base"])
    res = json.load(open(RES)) if os.path.exists(RES) else {}
    cache_p = os.path.join(CACHE, "teachers.pkl")
    T = pickle.load(open(cache_p, "rb")) if os.path.exists(cache_p) else {}
    # CV folds over OLID rows of the training set + the selection slice (weak negatives always in training)
    Xall = sp.vstack([X["off"][is_olid], X["sel"]]).tocsr()
    yall = np.r_[yo[is_olid], ysel]
    wall = np.r_[wo_[is_olid], np.ones(len(ysel))]
    Xweak, yweak, wweak = X["off"][~is_olid], yo[~is_olid], wo_[~is_olid]
    folds = np.array_split(np.random.default_rng(0).permutation(len(yall)), 5)
    if "full" not in T:  # the baseline teacher on the recipe's rows, and per fold
        t0 = time.time()
        mdl = fit(X["off"], yo, wo_)
        T["full"] = {"model": mdl, "pool_p": sig(logit(mdl, X["pool"]))}
        for i, f in enumerate(folds):
            tr = np.setdiff1d(np.arange(len(yall)), f)
            mdl = fit(sp.vstack([Xall[tr], Xweak]).tocsr(), np.r_[yall[tr], yweak], np.r_[wall[tr], wweak])
            T[i] = {"model": mdl, "pool_p": sig(logit(mdl, X["pool"]))}
        pickle.dump(T, open(cache_p, "wb"))
        print(f"teachers ({time.time() - t0:.0f} s)", flush=True)
    if "mix" not in T:
        pb = os.path.join(CACHE, "pool_base_logits.json")
        if os.path.exists(pb):
            bp = np.array(json.load(open(pb))["pool"]["mod"], np.float32)[:, 0]
            # the shipped mix (0.9 lexical) with the shipped float teacher
            T["mix"] = {"pool_p": sig(0.1 * bp + 0.9 * logit(T["full"]["model"], X["pool"]))}
            pickle.dump(T, open(cache_p, "wb"))
    rng = np.random.default_rng(7)
    boot_idx = rng.integers(0, len(ysel), size=(1000, len(ysel)))
    base_sel = None
    if "baseline" in res:
        base_sel = np.array(res["baseline"]["_sel_mix_p"])
    for name in names:
        v = VARIANTS[name]
        t0 = time.time()
        tp = T.get(v.get("teacher", "full"), {}).get("pool_p")
        mdl, npl = train_variant(v, X["off"], yo, wo_, X["pool"], tp)
        ls = logit(mdl, X["sel"])
        wmix, tsel, fmix = mix_select(ysel, bsel, ls)
        pmix = sig((1 - wmix) * bsel + wmix * ls)
        r = {"settings": v, "pseudo_rows(pos,neg)": npl, "mix_w": wmix, "t_sel": tsel, "sel_mix": 100 * fmix,
             "sel_lex": 100 * D.best_f1_threshold(ysel, sig(ls))[1], "sel_auc": 100 * auc(ysel, ls),
             "sel_mix_auc": 100 * auc(ysel, pmix), "_sel_mix_p": pmix.tolist(), "_model_path": None}
        if base_sel is not None:
            d = best_f1_vec(ysel, pmix, boot_idx) - best_f1_vec(ysel, base_sel, boot_idx)
            r["boot"] = [round(100 * float(d.mean()), 2), round(100 * float(np.percentile(d, 5)), 2),
                         round(100 * float(np.percentile(d, 95)), 2)]
        if v.get("teacher") != "mix":
            oof = np.zeros(len(yall))
            for i, f in enumerate(folds):
                tr = np.setdiff1d(np.arange(len(yall)), f)
                mf, _ = train_variant(v, sp.vstack([Xall[tr], Xweak]).tocsr(), np.r_[yall[tr], yweak],
                                      np.r_[wall[tr], wweak], X["pool"], T[i]["pool_p"])
                oof[f] = logit(mf, Xall[f])
            r["cv_best"] = 100 * D.best_f1_threshold(yall, sig(oof))[1]
            r["cv_auc"] = 100 * auc(yall, oof)
            np.save(os.path.join(CACHE, f"oof_{_fn(name)}.npy"), oof)
        np.savez(os.path.join(CACHE, f"model_{_fn(name)}.npz"), coef=mdl[0], b=mdl[1], wmix=wmix, t=tsel)
        r["seconds"] = round(time.time() - t0)
        res[name] = r
        if name == "baseline":
            base_sel = pmix
        json.dump(res, open(RES, "w"), indent=1)
        print(f"{name:42s} sel mix {r['sel_mix']:.1f} (w {wmix}, boot {r.get('boot')}) lex {r['sel_lex']:.1f} "
              f"auc {r['sel_auc']:.1f}/{r['sel_mix_auc']:.1f}  cv {r.get('cv_best', float('nan')):.1f} "
              f"auc {r.get('cv_auc', float('nan')):.2f}  pl {npl}  {r['seconds']} s", flush=True)


def _fn(name):
    import re

    return re.sub(r"[^\w=.+-]+", "_", name)


def unseen(names):
    m, X = load()
    res = json.load(open(RES))
    # the transformer's q8 logits on val / gun control (ngram_logits.mjs on cache/unseen_texts.json)
    ub = json.load(open(os.path.join(CACHE, "unseen_base_logits.json")))
    for name in names:
        z = np.load(os.path.join(CACHE, f"model_{_fn(name)}.npz"))
        mdl, wmix, t = (z["coef"], float(z["b"])), float(z["wmix"]), float(z["t"])
        r = res[name]
        for k in ("val", "gun"):
            y = np.array(m[f"{k}_y"])
            b = np.array(ub[k]["mod"], np.float32)[:, 0]
            lz = logit(mdl, X[k])
            p = sig((1 - wmix) * b + wmix * lz)
            r[f"{k}_sel_t"] = 100 * D.macro_f1(y, p >= t)
            tb, fb = D.best_f1_threshold(y, p)
            r[f"{k}_best"], r[f"{k}_tbest"] = 100 * fb, tb
            r[f"{k}_auc"] = 100 * auc(y, p)
            r[f"{k}_lex_best"] = 100 * D.best_f1_threshold(y, sig(lz))[1]
        res[name] = r
        print(f"{name:42s} val {r['val_sel_t']:.1f}/{r['val_best']:.1f} (auc {r['val_auc']:.1f})  "
              f"gun {r['gun_sel_t']:.1f}/{r['gun_best']:.1f} (auc {r['gun_auc']:.1f})", flush=True)
    json.dump(res, open(RES, "w"), indent=1)


def table():
    res = json.load(open(RES))
    f = lambda r, k: f"{r[k]:.1f}" if k in r else "–"  # noqa: E731
    print("| variant | pseudo rows (pos, neg) | mix w | sel mix F1 | Δ boot mean [5,95] | sel lex F1 | sel AUC | CV F1 | CV AUC "
          "| val @sel-t | val best | gun @sel-t | gun best |")
    print("|" + "---|" * 13)
    for n, r in res.items():
        b = r.get("boot")
        print(f"| {n} | {r['pseudo_rows(pos,neg)'] or '–'} | {r['mix_w']} | {f(r, 'sel_mix')} | "
              f"{'%+.1f [%+.1f, %+.1f]' % tuple(b) if b else '–'} | {f(r, 'sel_lex')} | {f(r, 'sel_auc')} | "
              f"{f(r, 'cv_best')} | {f(r, 'cv_auc')} | {f(r, 'val_sel_t')} | {f(r, 'val_best')} | {f(r, 'gun_sel_t')} | "
              f"{f(r, 'gun_best')} |")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "prep":
        prep()
    elif cmd == "run":
        run(sys.argv[2:] or list(VARIANTS))
    elif cmd == "unseen":
        unseen([n.strip() for n in sys.argv[2:]])
    elif cmd == "table":
        table()
