"""English `offensive` lexical channel: variants of the regression (models/training/lexical.py) vs its baseline.

  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 models/training/lexical_variants.py [variant ...]
  (about 10 minutes on one core; writes results.json and table.md into models/training/work/lexical_variants)

Run on 2026-12-04 for issue 14: no variant gained 1.5 points on all three measures, so lexical.py was left as it is.

Measures (macro-F1 x 100, D.macro_f1 / D.best_f1_threshold, prob >= t):
  val_best / val_sel  TweetEval offensive val (1,324) at its best threshold / at the threshold best on the `olid`
                      selection slice (train-only, as lexical.py select picks it)
  gun_best / gun_sel  the OLID gun-control tweets (HELDOUT_OLID_RE, 1,093), same two
  cv_best             5-fold CV over OLID minus TweetEval val minus gun control (the OLID training rows + the `olid`
                      selection slice); the weak chat negatives (and HatEval positives if used) stay in every
                      training fold; pooled out-of-fold probabilities at their best threshold (also the mean of the
                      per-fold best in the json)
Features are exactly lexical.py's (crc32 hashing into 2^18 word + 2^18 char buckets, sublinear tf, idf over the
sentiment + offensive training texts with df >= 2, L2 per group), computed per n-gram order and summed so variants
share the hashing; the baseline fit is lexical.py's train() for the offensive column.
"""
from __future__ import annotations

import json
import os
import pickle
import re
import sys
import time
import zlib

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import lexical as L  # noqa: E402
import signals_data as D  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "work", "lexical_variants")
CACHE = os.path.join(HERE, "cache")
WB, CB = L.WORD_BUCKETS, L.CHAR_BUCKETS
SEED = 1234


# ---------------------------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------------------------
def load_data():
    p = os.path.join(CACHE, "data.pkl")
    if os.path.exists(p):
        return pickle.load(open(p, "rb"))
    data = C.DEFAULT_DATA
    sent, off, sel = L.build(data, SEED, hateval=False)
    _, off_h, _ = L.build(data, SEED, hateval=True)
    olid_keys = set(C.match_key(C.clean_tweet(r["text"])) for r in C.load_olid(data))
    base_set = set((t, y, w) for t, y, w in off)
    hate_pos = [(t, y, w) for t, y, w in off_h if (t, y, w) not in base_set]
    olid_rows = [(t, y, w) for t, y, w in off if w == 1.0 and C.match_key(C.clean_tweet(t)) in olid_keys]
    weak = [(t, y, w) for t, y, w in off if not (w == 1.0 and C.match_key(C.clean_tweet(t)) in olid_keys)]
    vt, vy = C.load_tweeteval(data, "offensive", "val")
    gun = [(r["text"], 1 if r["a"] == "OFF" else 0) for r in C.load_olid(data) if D.HELDOUT_OLID_RE.search(r["text"])]
    d = {"sent": [t for t, _, _ in sent], "off": off, "olid_rows": olid_rows, "weak": weak, "hate_pos": hate_pos,
         "sel_t": sel["olid"][0], "sel_y": [int(y[0] > 0.5) for y in sel["olid"][1]],
         "val_t": vt, "val_y": [int(y) for y in vy], "gun_t": [t for t, _ in gun], "gun_y": [y for _, y in gun]}
    os.makedirs(CACHE, exist_ok=True)
    pickle.dump(d, open(p, "wb"))
    return d


# ---------------------------------------------------------------------------------------------------------------
# features: per-order hashed count matrices (summing orders = lexical.py's Counter over all of a group's strings)
# ---------------------------------------------------------------------------------------------------------------
_MENTION_URL = re.compile(r"(^|\s)(@user|http)(?=\s|$)")


def _text(t, strip=False):
    t = "".join(list(C.clean_tweet(t))[:L.MAX_CHARS]).lower()
    if strip:  # variant: drop the @user / URL placeholders altogether
        t = C.norm_ws(_MENTION_URL.sub(" ", _MENTION_URL.sub(" ", t)))
    return t


def order_strings(t):
    """{key: feature strings} for word orders w1, w2, w3 and char orders c1..c6 (char_wb, as lexical.py)."""
    toks = L._TOKEN.findall(t)
    out = {"w1": [f"w {w}" for w in toks], "w2": [f"b {a} {b}" for a, b in zip(toks, toks[1:])],
           "w3": [f"t {a} {b} {c}" for a, b, c in zip(toks, toks[1:], toks[2:])]}
    for n in range(1, 7):
        out[f"c{n}"] = []
    for w in t.split():
        p = f" {w} "
        for n in range(1, min(6, len(p)) + 1):
            out[f"c{n}"].extend(f"c {p[i: i + n]}" for i in range(len(p) - n + 1))
    return out


KEYS = ["w1", "w2", "w3", "c1", "c2", "c3", "c4", "c5", "c6"]


def count_matrices(texts, strip=False, keys=KEYS):
    rows = {k: ([], []) for k in keys}
    for r, t in enumerate(texts):
        s = order_strings(_text(t, strip))
        for k in keys:
            B = WB if k[0] == "w" else CB
            hs = [zlib.crc32(x.encode("utf-8")) % B for x in s[k]]
            rows[k][0].extend([r] * len(hs))
            rows[k][1].extend(hs)
    out = {}
    for k in keys:
        B = WB if k[0] == "w" else CB
        rr, cc = rows[k]
        m = sp.csr_matrix((np.ones(len(rr), np.float64), (np.array(rr, np.int64), np.array(cc, np.int64))),
                          shape=(len(texts), B))
        m.sum_duplicates()
        out[k] = m
    return out


COMBOS = {  # feature sets: (word orders, char orders)
    "base": (("w1", "w2"), ("c2", "c3", "c4", "c5")),
    "wtri": (("w1", "w2", "w3"), ("c2", "c3", "c4", "c5")),
    "c16": (("w1", "w2"), ("c1", "c2", "c3", "c4", "c5", "c6")),
    "c36": (("w1", "w2"), ("c3", "c4", "c5", "c6")),
}


def features(d, strip=False):
    """{"off", "weak"... texts: per-order count matrices} and the sentiment df per combo (cached)."""
    p = os.path.join(CACHE, f"feats{'_strip' if strip else ''}.pkl")
    if os.path.exists(p):
        return pickle.load(open(p, "rb"))
    t0 = time.time()
    sets = {k: [t for t, _, _ in d[k]] for k in ("olid_rows", "weak", "hate_pos")}
    sets.update(sel=d["sel_t"], val=d["val_t"], gun=d["gun_t"])
    mats = {k: count_matrices(v, strip) for k, v in sets.items()}
    print(f"  hashed eval/train texts ({time.time() - t0:.0f} s)", flush=True)
    # sentiment texts count only in the idf: df per combo, in chunks
    combos = COMBOS if not strip else {"base": COMBOS["base"]}
    sdf = {c: [np.zeros(WB), np.zeros(CB)] for c in combos}
    S = d["sent"]
    for i in range(0, len(S), 5000):
        m = count_matrices(S[i: i + 5000], strip)
        for c, (wk, ck) in combos.items():
            for g, ks in enumerate((wk, ck)):
                sdf[c][g] += np.asarray((sum(m[k] for k in ks) > 0).sum(0)).ravel()
    print(f"  hashed {len(S)} sentiment texts ({time.time() - t0:.0f} s)", flush=True)
    out = {"mats": mats, "sdf": sdf, "n_sent": len(S)}
    pickle.dump(out, open(p, "wb"), protocol=4)
    return out


def group(mats, ks):
    return sum(mats[k] for k in ks).tocsr()


def idf_from(df, n):
    v = np.log((1.0 + n) / (1.0 + df)) + 1.0
    v[df < 2] = 0.0
    return v.astype(np.float32).astype(np.float64)


def tfidf(Cm, idf):
    X = Cm.copy().astype(np.float64)
    X.data = 1.0 + np.log(X.data)
    X = X.multiply(idf[None, :]).tocsr()
    X.eliminate_zeros()
    nrm = np.sqrt(np.asarray(X.multiply(X).sum(1)).ravel())
    nrm[nrm == 0] = 1.0
    return sp.diags(1.0 / nrm) @ X


# a small hand-made profanity / insult lexicon (whole tokens, and a few stems)
LEX_WORDS = set("""
fuck fucking fucked fucker fuckers fuckin fck fk fuk motherfucker mf wtf stfu gtfo shit shitty bullshit shits bs
crap crappy damn dammit goddamn hell ass asses asshole assholes arse jackass dumbass bitch bitches bitchy
bastard bastards dick dicks dickhead prick cock cunt cunts pussy twat wanker whore whores slut sluts hoe hoes
idiot idiots idiotic stupid stupidity moron morons moronic dumb dummy imbecile fool fools foolish retard retarded
retards loser losers scum scumbag trash garbage pathetic disgusting disgrace clown clowns jerk jerks liar liars
lying hypocrite hypocrites coward cowards traitor traitors nazi nazis fascist fascists racist racists bigot
bigots sick sucks suck sucked ugly fat freak freaks creep creepy pig pigs rat rats snake worthless useless
shut kill die hate hateful evil lunatic psycho crazy insane nuts
""".split())
LEX_STEMS = ("fuck", "shit", "bitch", "cunt", "dick", "whor", "slut", "retard", "idiot", "stupid", "moron", "asshole")


def lexicon_counts(texts, strip=False):
    v = np.zeros(len(texts))
    for i, t in enumerate(texts):
        toks = L._TOKEN.findall(_text(t, strip))
        v[i] = sum(1 for w in toks if w in LEX_WORDS or w.startswith(LEX_STEMS))
    return v


# ---------------------------------------------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------------------------------------------
def fit_predict(Xtr, y, w, Xte_list, v):
    """Fit variant v's classifier on (Xtr, y, w); probabilities for each matrix in Xte_list."""
    from sklearn.linear_model import LogisticRegression

    kind, Cc, alpha = v.get("model", "lr"), v.get("C", 1.0), v.get("alpha", 1.0)

    def lr(alpha_):
        r = L.nb_ratios(Xtr, y, w, alpha_) if alpha_ > 0 else np.ones(Xtr.shape[1])
        m = LogisticRegression(C=Cc, max_iter=3000, class_weight="balanced")
        m.fit(Xtr.multiply(r).tocsr(), y, sample_weight=w)
        return [m.predict_proba(X.multiply(r).tocsr())[:, 1] for X in Xte_list]

    if kind == "lr":
        return lr(alpha)
    if kind == "avg":  # mean of the NBSVM and the plain-LR probabilities
        a, b = lr(alpha), lr(0.0)
        return [(p + q) / 2 for p, q in zip(a, b)]
    r = L.nb_ratios(Xtr, y, w, alpha) if alpha > 0 else np.ones(Xtr.shape[1])
    Xr = Xtr.multiply(r).tocsr()
    if kind == "sgd":
        from sklearn.linear_model import SGDClassifier

        m = SGDClassifier(loss="modified_huber", alpha=v.get("sgd_alpha", 1e-4), class_weight="balanced",
                          max_iter=50, tol=1e-4, random_state=0)
        m.fit(Xr, y, sample_weight=w)
    elif kind == "svc":
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import LinearSVC

        m = CalibratedClassifierCV(LinearSVC(C=v.get("svc_C", 0.1), class_weight="balanced", max_iter=5000),
                                   method="sigmoid", cv=3)
        m.fit(Xr, y, sample_weight=w)
    else:
        raise ValueError(kind)
    return [m.predict_proba(X.multiply(r).tocsr())[:, 1] for X in Xte_list]


def f1_at(y, p, t):
    return D.macro_f1(np.asarray(y), np.asarray(p) >= t)


def run_variant(name, v, d, F):
    """The six figures of one variant."""
    t0 = time.time()
    wk, ck = COMBOS[v.get("feats", "base")]
    mats, sdf = F["mats"], F["sdf"][v.get("feats", "base")]
    G = {s: (group(mats[s], wk), group(mats[s], ck)) for s in mats}
    lex = None
    if v.get("lexicon"):
        strip = v.get("strip", False)
        lex = {"olid_rows": lexicon_counts([t for t, _, _ in d["olid_rows"]], strip),
               "weak": lexicon_counts([t for t, _, _ in d["weak"]], strip),
               "hate_pos": lexicon_counts([t for t, _, _ in d["hate_pos"]], strip),
               "sel": lexicon_counts(d["sel_t"], strip), "val": lexicon_counts(d["val_t"], strip),
               "gun": lexicon_counts(d["gun_t"], strip)}
        lex = {k: np.log1p(x) * v["lexicon"] for k, x in lex.items()}

    def X_of(set_name, idx, idf):
        Wm, Cm = G[set_name]
        if idx is not None:
            Wm, Cm = Wm[idx], Cm[idx]
        parts = [tfidf(Wm, idf[0]), tfidf(Cm, idf[1])]
        if lex is not None:
            x = lex[set_name] if idx is None else lex[set_name][idx]
            parts.append(sp.csr_matrix(x[:, None]))
        return sp.hstack(parts).tocsr()

    n_olid = len(d["olid_rows"])
    extra = ["weak"] + (["hate_pos"] if v.get("hateval") else [])

    def train_and_predict(olid_idx, sel_idx, tests):
        """Training = OLID rows olid_idx (+ selection rows sel_idx) + weak negatives (+ HatEval positives)."""
        tr = [("olid_rows", olid_idx)] + ([("sel", sel_idx)] if sel_idx is not None and len(sel_idx) else []) + \
             [(e, None) for e in extra]
        n = sum(G[s][0].shape[0] if i is None else len(i) for s, i in tr) + F["n_sent"]
        idf = []
        for g in range(2):
            df = sdf[g].copy()
            for s, i in tr:
                Mx = G[s][g] if i is None else G[s][g][i]
                df += np.asarray((Mx > 0).sum(0)).ravel()
            idf.append(idf_from(df, n))
        Xtr = sp.vstack([X_of(s, i, idf) for s, i in tr]).tocsr()
        lab = {"olid_rows": [y for _, y, _ in d["olid_rows"]], "weak": [y for _, y, _ in d["weak"]],
               "hate_pos": [y for _, y, _ in d["hate_pos"]], "sel": d["sel_y"]}
        wts = {"olid_rows": [w for _, _, w in d["olid_rows"]], "weak": [w for _, _, w in d["weak"]],
               "hate_pos": [w for _, _, w in d["hate_pos"]], "sel": [1.0] * len(d["sel_y"])}
        y = np.concatenate([np.asarray(lab[s])[i] if i is not None else np.asarray(lab[s]) for s, i in tr]) > 0.5
        w = np.concatenate([np.asarray(wts[s], np.float64)[i] if i is not None else np.asarray(wts[s], np.float64)
                            for s, i in tr])
        return fit_predict(Xtr, y, w, [X_of(s, i, idf) for s, i in tests], v)

    # 1+2: the recipe's own training rows; threshold on the selection slice
    p_sel, p_val, p_gun = train_and_predict(np.arange(n_olid), None, [("sel", None), ("val", None), ("gun", None)])
    os.makedirs(os.path.join(HERE, "probs"), exist_ok=True)
    np.savez(os.path.join(HERE, "probs", re.sub(r"[^\w=.+-]+", "_", name) + ".npz"), sel=p_sel, val=p_val, gun=p_gun)
    t_sel, f_sel = D.best_f1_threshold(np.array(d["sel_y"]), p_sel)
    res = {"t_sel": t_sel, "sel_best": 100 * f_sel}
    for k, p in (("val", p_val), ("gun", p_gun)):
        y = np.array(d[f"{k}_y"])
        tb, fb = D.best_f1_threshold(y, p)
        res.update({f"{k}_best": 100 * fb, f"{k}_sel": 100 * f1_at(y, p, t_sel), f"{k}_tbest": tb})
    # 3: 5-fold CV over OLID (training rows + selection slice); weak negatives (+ HatEval) always in training
    n_all = n_olid + len(d["sel_y"])
    yall = np.array([int(y > 0.5) for _, y, _ in d["olid_rows"]] + d["sel_y"])
    perm = np.random.default_rng(v.get("cv_seed", 0)).permutation(n_all)
    oof = np.zeros(n_all)
    fold_best = []
    for fold in np.array_split(perm, 5):
        held = np.zeros(n_all, bool)
        held[fold] = True
        tr_o, tr_s = np.where(~held[:n_olid])[0], np.where(~held[n_olid:])[0]
        te_o, te_s = np.where(held[:n_olid])[0], np.where(held[n_olid:])[0]
        po, ps = train_and_predict(tr_o, tr_s, [("olid_rows", te_o), ("sel", te_s)])
        oof[te_o] = po
        oof[n_olid + te_s] = ps
        fold_best.append(100 * D.best_f1_threshold(yall[np.r_[te_o, n_olid + te_s]], np.r_[po, ps])[1])
    res["cv_best"] = 100 * D.best_f1_threshold(yall, oof)[1]
    res["cv_fold_mean"] = float(np.mean(fold_best))
    res["seconds"] = round(time.time() - t0)
    return res


VARIANTS = {
    "baseline": {},
    "C=0.25": {"C": 0.25}, "C=0.5": {"C": 0.5}, "C=2": {"C": 2.0}, "C=4": {"C": 4.0},
    "alpha=0.25": {"alpha": 0.25}, "alpha=0.5": {"alpha": 0.5}, "plain LR (alpha=0)": {"alpha": 0.0},
    "word trigrams": {"feats": "wtri"}, "char 1-6": {"feats": "c16"}, "char 3-6": {"feats": "c36"},
    "avg(NBSVM, LR)": {"model": "avg"},
    "SGD modified_huber (NB feats)": {"model": "sgd"},
    "LinearSVC C=0.1 + sigmoid calib (NB feats)": {"model": "svc"},
    "+HatEval hate positives": {"hateval": True},
    "strip @user/URL tokens": {"strip": True},
    "+lexicon count feature": {"lexicon": 1.0},
    "+lexicon count feature x3": {"lexicon": 3.0},
    "+lexicon x3, char 1-6": {"lexicon": 3.0, "feats": "c16"},
    # noise yardsticks: the baseline with other CV fold draws
    "baseline, CV folds seed 1": {"cv_seed": 1}, "baseline, CV folds seed 2": {"cv_seed": 2},
}


def main():
    names = sys.argv[1:] or list(VARIANTS)
    d = load_data()
    print(f"rows: OLID train {len(d['olid_rows'])}, weak negatives {len(d['weak'])}, HatEval positives "
          f"{len(d['hate_pos'])}, selection {len(d['sel_t'])}, val {len(d['val_t'])}, gun {len(d['gun_t'])}, "
          f"sentiment (idf only) {len(d['sent'])}", flush=True)
    out_p = os.path.join(HERE, "results.json")
    allres = json.load(open(out_p)) if os.path.exists(out_p) else {}
    F = {False: None, True: None}
    for name in names:
        v = VARIANTS[name]
        s = bool(v.get("strip"))
        if F[s] is None:
            F[s] = features(d, strip=s)
        r = run_variant(name, v, d, F[s])
        allres[name] = {"settings": v, **r}
        json.dump(allres, open(out_p, "w"), indent=1)
        print(f"{name:45s} val {r['val_best']:.1f}/{r['val_sel']:.1f}  gun {r['gun_best']:.1f}/{r['gun_sel']:.1f}  "
              f"cv {r['cv_best']:.1f} (fold mean {r['cv_fold_mean']:.1f})  t_sel {r['t_sel']:.2f}  "
              f"{r['seconds']} s", flush=True)
    write_table(allres)


def write_table(allres):
    """table.md: variant x the six figures (and the differences from the baseline)."""
    b = allres.get("baseline")
    cols = ["val_best", "val_sel", "gun_best", "gun_sel", "cv_best"]
    lines = ["| variant | val best | val @sel-t | gun best | gun @sel-t | CV best | CV fold-mean | sel-t | min diff vs base |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, r in allres.items():
        diff = min(r[c] - b[c] for c in cols) if b else float("nan")
        lines.append(f"| {name} | " + " | ".join(f"{r[c]:.1f}" for c in cols) +
                     f" | {r['cv_fold_mean']:.1f} | {r['t_sel']:.2f} | {diff:+.1f} |")
    open(os.path.join(HERE, "table.md"), "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
