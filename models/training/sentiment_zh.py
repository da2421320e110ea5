"""The signals model's Chinese sentiment channel (sentiment_zh.json beside the graph; runtime:
models/runtime/sentiment-zh.ts, read through models/runtime/char-channel.ts).

  /usr/bin/python3 models/training/sentiment_zh.py export [--bundle DIR]   (needs python3-sklearn; about 3 minutes)
  (`npm run train -- sentiment-zh [--bundle DIR]`)
The shipped file was written with OMP_NUM_THREADS=2 and is reproduced byte for byte with it; another BLAS thread count
sums in another order, which can move an n-gram across the pruning cut (a slightly different vocabulary).

Why: the graph's Chinese sentiment head learned from ChnSentiCorp's reviews (negative / positive) and TNEWS headlines
(weak neutral); it had never seen everyday chat, and read one short everyday Chinese line in five as strongly negative
("你吃饭了没" negative 0.99, "我睡啦" 0.98): with `sentimentTags strong` a Chinese server saw 😟 under its greetings.

Model: the safety channel's (safety_zh.py): sublinear TF-IDF over character 1-3-grams of the normalised text (NFKC,
lower-cased, spaces removed; the first MAX_CHARS characters), L2-normalised, a multinomial logistic regression over
(negative, neutral, positive) with balanced class weights, pruned to the KEEP strongest n-grams and refitted. Every
line is read, short ones too ("谢谢").

Data (train splits and our own development lines only):
- ChnSentiCorp train outside the carved bands (common.carve_band >= CARVE_SEL): negative / positive. Its licence is
  non-commercial: a build without it (signals.py --no-noncommercial) reads no Chinese sentiment, and this script
  refuses to add the channel to it;
- TNEWS train headlines outside our carved validation slice (TNEWS_N of them): neutral;
- the Chinese development lines of fixtures/safety_dev.jsonl at DEV_WEIGHT: short everyday lines (kind "ordinary") as
  neutral; threats, incitements and insults as negative (abuse is negative in tone: "你他妈的滚出去" was tagged positive
  0.66). Not its benign look-alikes: they are harmless, not neutral in tone ("我太菜了，又输了", "食物中毒"); as neutral
  they lowered the selection macro-recall below (79.8 without them, 74.8 with them at weight 3, 75.7 at weight 1);
- fixtures/sentiment_dev_zh.jsonl at DEV_WEIGHT: group-chat lines written for development (joy, thanks, complaints,
  frustration, plain logistics), labelled negative / neutral / positive: without them the channel read chat emotions
  ("气死我了，又堵车", "今天天气真好，心情不错") as neutral.
The reported sets are never read here: ChnSentiCorp's carved validation band [0, CARVE_VAL), TNEWS's carved
validation slice and the blind fixtures (sentiment_eval_zh, chat_zh_short, insult_eval_zh).

Mixing: the runtime reads Chinese sentiment as (1 - w) * the graph's log-probabilities + w * the channel's logits. w is
the weight on a 0.1 grid with the best macro-recall over three classes on selection texts the channel was not fitted
on: ChnSentiCorp's selection band [CARVE_VAL, CARVE_SEL), 2,000 held-back TNEWS train headlines and the development
chat lines out of fold (choose_mix; the graph's logits come from ngram_logits.mjs, q8, as the runtime computes them).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import safety_zh as S  # noqa: E402

VERSION = "sentiment-zh-1"
CLASSES = ["negative", "neutral", "positive"]
TNEWS_N = 8000
DEV_WEIGHT = 3.0
KEEP = 8000  # n-grams kept (the signals folder's 28 MiB budget)
_ABUSE = ("threat", "self_harm", "insult", "obfuscated")
_CALM = ("ordinary",)  # not "benign": see the module docstring


def training_rows(data, seed):
    """(texts, class indices, weights) for the fit; ((texts, labels) selection: ChnSentiCorp's selection band and
    held-back TNEWS train headlines)."""
    rnd = random.Random(seed)
    lab = {"negative": 0, "positive": 2}
    cs = C.load_chnsenticorp(data)
    train = [(t, lab[y], 1.0) for t, y in cs if C.carve_band(t) >= C.CARVE_SEL]
    sel = [(t, lab[y]) for t, y in cs if C.CARVE_VAL <= C.carve_band(t) < C.CARVE_SEL]
    tnews = [t for t, _ in C.load_tnews(data, "train")]
    rnd.shuffle(tnews)
    train += [(t, 1, 1.0) for t in tnews[:TNEWS_N]]
    sel += [(t, 1) for t in tnews[TNEWS_N: TNEWS_N + 2000]]
    for text, _, _, kind in S.dev_lines():
        if kind in _ABUSE:
            train.append((text, 0, DEV_WEIGHT))
        elif kind in _CALM:
            train.append((text, 1, DEV_WEIGHT))
    texts, labels, weights = zip(*train)
    return (list(texts), np.array(labels), np.array(weights)), sel


def chat_lines():
    """fixtures/sentiment_dev_zh.jsonl: group-chat lines written for development, (text, class index)."""
    with open(os.path.join(S.FIXTURES, "sentiment_dev_zh.jsonl"), encoding="utf-8") as f:
        return [(d["text"], CLASSES.index(d["kind"])) for d in map(json.loads, f) if d.get("text")]


def with_chat(rows, chat):
    texts, labels, weights = rows
    return (texts + [t for t, _ in chat], np.concatenate([labels, [y for _, y in chat]]),
            np.concatenate([weights, [DEV_WEIGHT] * len(chat)]))


def graph_logits(bundle, sets):
    """The graph's sentiment logits on named text sets, as the runtime computes them (ngram_logits.mjs, q8)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
        with open(src, "w", encoding="utf-8") as f:
            json.dump(sets, f, ensure_ascii=False)
        subprocess.run(["node", os.path.join(C.HERE, "ngram_logits.mjs"), bundle, src, out, "--dtype", "q8"],
                       check=True, stdout=subprocess.DEVNULL)
        with open(out, encoding="utf-8") as f:
            return {k: np.array(v["sent"], np.float64) for k, v in json.load(f).items()}


MIX_GRID = [round(w, 1) for w in np.arange(0.0, 1.01, 0.1)]


def choose_mix(a, rows, chat, sel, vec, clf):
    """The mix weight: the w on MIX_GRID with the best macro-recall (3 classes) on the selection texts, the graph's
    log-probabilities mixed with the channel's logits as the runtime does. Selection: ChnSentiCorp's selection band
    and held-back TNEWS headlines, read by (vec, clf), the channel trained on everything else; and the development
    chat lines out of fold (5 folds)."""
    rnd = random.Random(a.seed)
    order = list(range(len(chat)))
    rnd.shuffle(order)
    oof = np.zeros((len(chat), 3))
    for f in range(5):
        held = set(order[f::5])
        fold_vec, fold_clf = fit(*with_chat(rows, [c for i, c in enumerate(chat) if i not in held]))
        idx = sorted(held)
        oof[idx] = fold_clf.decision_function(fold_vec.transform([chat[i][0] for i in idx]))
    own = np.concatenate([clf.decision_function(vec.transform([t for t, _ in sel])), oof])
    y = np.array([l for _, l in sel] + [l for _, l in chat])
    g = graph_logits(a.bundle, {"sel": [t for t, _ in sel], "chat": [t for t, _ in chat]})
    graph = np.concatenate([g["sel"], g["chat"]])
    graph = graph - np.log(np.exp(graph - graph.max(1, keepdims=True)).sum(1, keepdims=True)) - graph.max(1, keepdims=True)
    curve = []
    for w in MIX_GRID:
        z = (1 - w) * graph + w * own
        curve.append(float(np.mean([np.mean(z[y == c].argmax(1) == c) for c in range(3)])))
    best = MIX_GRID[int(np.argmax(curve))]
    print("  mix weight, selection macro-recall: " + " ".join(f"{w:g}:{100 * r:.1f}" for w, r in zip(MIX_GRID, curve)))
    return best, {"grid": MIX_GRID, "selection_macro_recall": [round(r, 4) for r in curve]}


def fit(texts, labels, weights):
    """(vectorizer, regression): the safety channel's recipe (pruned vocabulary, refitted)."""
    return S.fit(texts, labels, weights, KEEP)


def selection_figures(vec, clf, sel):
    P = clf.predict_proba(vec.transform([t for t, _ in sel]))
    y = np.array([l for _, l in sel])
    review = y != 1
    two_way = np.where(P[review, 2] > P[review, 0], 2, 0) == y[review]
    return {"chnsenticorp_selection_accuracy": round(float(two_way.mean()), 4),
            "tnews_held_back_non_neutral": round(float(np.mean(P[~review].argmax(1) != 1)), 4),
            "selection_macro_recall": round(float(np.mean([np.mean(P[y == c].argmax(1) == c) for c in range(3)])), 4)}


def export(a):
    cfg_path = os.path.join(a.bundle, "config.json")
    with open(cfg_path, encoding="utf-8") as f:
        cfg = json.load(f)
    st = cfg["steward"]
    if "zh" not in st.get("languages", {}).get("sentiment", []):
        raise SystemExit(f"{a.bundle} reads no Chinese sentiment (a build without ChnSentiCorp): no channel to add")
    rows, sel = training_rows(a.data, a.seed)
    chat = chat_lines()
    texts, labels, weights = with_chat(rows, chat)
    vec, clf = fit(texts, labels, weights)
    assert list(clf.classes_) == [0, 1, 2]
    mix, curve = choose_mix(a, rows, chat, sel, vec, clf)
    figures = selection_figures(vec, clf, sel)
    vocab = vec.get_feature_names_out().tolist()
    channel = {"version": VERSION, "classes": CLASSES, "max_chars": S.MAX_CHARS, "ngrams": list(S.NGRAMS),
               "vocab": "\n".join(vocab), "idf": np.round(vec.idf_, 4).tolist(),
               "weights": np.round(clf.coef_.T, 4).reshape(-1).tolist(), "bias": np.round(clf.intercept_, 4).tolist()}
    cases = ["你吃饭了没", "我睡啦", "谢谢", "这家酒店服务太差了，再也不来了", "房间干净，早餐丰富，推荐",
             "你他妈的滚出去", "国务院发布新规", "好", "", "ＯＫ 没问题", "太棒了！！！"]
    parity = [{"text": t, "logits": [round(float(v), 6) for v in S.logits_of(channel, t)]} for t in cases]
    path = os.path.join(a.bundle, "sentiment_zh.json")
    with open(path + ".tmp", "w", encoding="utf-8") as f:  # compact: the folder's size budget
        json.dump(channel, f, ensure_ascii=False, separators=(",", ":"))
    os.replace(path + ".tmp", path)
    st["sentiment_channel"] = {
        "file": "sentiment_zh.json", "version": VERSION, "languages": ["zh"], "mix": mix,
        "training": {"chnsenticorp_train": int(np.sum(weights == 1.0) - TNEWS_N), "tnews_neutral": TNEWS_N,
                     "development_lines": int(np.sum(weights == DEV_WEIGHT)), "of_them_chat": len(chat),
                     "development_weight": DEV_WEIGHT},
        "selection": {**figures, "mix": curve}, "parity": parity}
    C.atomic_write_json(cfg_path, cfg)
    print(json.dumps({"file": path, "bytes": os.path.getsize(path), "features": len(vocab), "mix": mix, **figures},
                     ensure_ascii=False))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["export"])
    ap.add_argument("--data", default=C.DEFAULT_DATA)
    ap.add_argument("--bundle", default=os.path.join(C.REPO, "models", "bundled", "signals"))
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args()
    export(a)


if __name__ == "__main__":
    main()
