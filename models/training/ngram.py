"""A separately trained fastText-style n-gram channel, ensembled with an existing signals model (signals-0.3.2).

  /usr/bin/python3 models/training/ngram.py prepare  [--data DIR]   training features + selection texts -> work/ngram
  node models/training/ngram_logits.mjs <base> work/ngram/sel_texts.json work/ngram/base_logits.json --dtype q8
  /usr/bin/python3 models/training/ngram.py train                   the channel, to convergence on TRAIN data
  /usr/bin/python3 models/training/ngram.py select                  weights + thresholds on the selection slices
  /usr/bin/python3 models/training/ngram.py export --base DIR --bundle DIR   merged fp32 + int8 graphs, config, parity
  (`npm run train -- ngram [--base DIR] [--bundle DIR]` runs all of it, then the Node parity check.)

The channel: one table of token unigrams + hashed token bigrams and trigrams (ngram_data.py), mean-pooled, a linear
head per task (sentiment 3 classes, moderation 4 labels), trained on exactly the rows signals.py trains on
(signals_data.prepare with the same seed), so the held-out-by-source sets stay unseen and the selection slices
(English 6 % / 8 % train hold-outs, COLD 8 % train hold-out, ChnSentiCorp band [10,15)) stay unseen by both models.
Its logits are ADDED to the base model's with per-language, per-head weights chosen on those selection slices; the
thresholds are then re-chosen there exactly as signals.py calibrate does.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import ngram_data as N  # noqa: E402
import signals_data as D  # noqa: E402
from signals import load_tok  # noqa: E402

VERSION = "signals-0.3.2"
MAX_LEN = 128


class Bag(nn.Module):
    """fastText: mean of n-gram embeddings -> linear."""

    def __init__(self, rows, dim, k):
        super().__init__()
        self.emb = nn.EmbeddingBag(rows, dim, mode="sum", sparse=True)
        nn.init.uniform_(self.emb.weight, -1.0 / dim, 1.0 / dim)
        self.out = nn.Linear(dim, k)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, flat, weights, offsets):
        return self.out(self.emb(flat, offsets, per_sample_weights=weights))

    def table(self, vocab, n_rows, subwords=None):
        """Per-row logits of the graph's table (the head folded in: mean(E) W^T + b = mean(E W^T) + b), with each
        token's row the mean of its own and its character n-grams' rows when trained with subwords."""
        with torch.no_grad():
            E = self.emb.weight[:n_rows].clone()
            if subwords is not None:
                full = self.emb.weight
                for t, g in enumerate(subwords):
                    if len(g):
                        E[t] = (full[t] + full[torch.from_numpy(g)].sum(0)) / (1 + len(g))
            return (E @ self.out.weight.t()).numpy(), self.out.bias.numpy().copy()


def _batch(feats, wts, lens, offs, idx):
    parts = [feats[offs[i]: offs[i] + lens[i]] for i in idx]
    pw = [wts[offs[i]: offs[i] + lens[i]] for i in idx]
    o = np.cumsum([0] + [len(x) for x in parts[:-1]]).astype(np.int64)
    return torch.from_numpy(np.concatenate(parts)), torch.from_numpy(np.concatenate(pw)), torch.from_numpy(o)


def _predict(model, feats, wts, lens, offs, batch=1024):
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(lens), batch):
            out.append(model(*_batch(feats, wts, lens, offs, range(s, min(s + batch, len(lens))))).numpy())
    model.train()
    return np.concatenate(out)


def _feats(tok, texts, a, subwords):
    flat, wts, offs, lens = N.featurize(tok, texts, MAX_LEN, tok.vocab_size, a.b2, a.b3, subwords)
    return flat, wts, np.asarray(lens), offs


def _sel_score(task, logits, sel):
    """Standalone selection score of the channel (for the epoch choice)."""
    if task == "sent":
        en = D.macro_recall(sel["sent_en"][1], logits["sent_en"].argmax(1))
        zl = logits["sent_zh"]
        zh = float((np.where(zl[:, 2] > zl[:, 0], 2, 0) == np.array(sel["sent_zh"][1])).mean()) if len(zl) else 0.0
        return {"sent_en_macro_recall": en, "sent_zh_acc": zh}
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    return {"olid_off_f1": D.best_f1_threshold([y[0] for y in sel["olid"][1]], sig(logits["olid"][:, 0]))[1],
            "hate_f1": D.best_f1_threshold(sel["hate"][1], sig(logits["hate"][:, 3]))[1],
            "cold_f1": D.best_f1_threshold(sel["cold"][1], sig(logits["cold"][:, 0]))[1]}


def _fit(task, model, feats, wts, lens, offs, y, w, cw, sel_f, sel, a, seed, log):
    """Trains one bag for `epochs` epochs (Adam, fastText's linear LR decay); keeps the epoch that scores best on the
    selection slices. Returns (table, bias, history, chosen epoch)."""
    opt_e = torch.optim.SparseAdam(list(model.emb.parameters()), lr=a.lr)
    opt_o = torch.optim.Adam(list(model.out.parameters()), lr=a.lr)
    rng = np.random.default_rng(seed)
    n = len(lens)
    total = ((n + a.batch - 1) // a.batch) * a.epochs
    best, step, hist, t0 = None, 0, [], time.time()
    keys = ["sent_en", "sent_zh"] if task == "sent" else ["olid", "hate", "cold"]
    for ep in range(a.epochs):
        perm = rng.permutation(n)
        for s in range(0, n, a.batch):
            idx = perm[s: s + a.batch]
            lr = a.lr * max(0.0, 1.0 - step / total)
            for o in (opt_e, opt_o):
                for g in o.param_groups:
                    g["lr"] = lr
            out = model(*_batch(feats, wts, lens, offs, idx))
            it = torch.from_numpy(idx)
            if task == "sent":
                ce = F.cross_entropy(out, y[it], weight=cw, reduction="none")
                loss = (ce * w[it]).sum() / (w[it] * cw[y[it]]).sum().clamp(min=1e-6)
            else:
                bce = F.binary_cross_entropy_with_logits(out, y[it], reduction="none")
                loss = (bce * w[it]).sum() / w[it].sum().clamp(min=1.0)
            opt_e.zero_grad(), opt_o.zero_grad()
            loss.backward()
            opt_e.step(), opt_o.step()
            step += 1
        sc = _sel_score(task, {kk: _predict(model, *sel_f[kk]) for kk in keys}, sel)
        hist.append({"epoch": ep + 1, **{kk: round(v, 4) for kk, v in sc.items()}})
        log(f"  {task} seed {seed} epoch {ep + 1}/{a.epochs} selection {hist[-1]} ({time.time() - t0:.0f} s)")
        if best is None or sum(sc.values()) > best[0]:
            best = (sum(sc.values()), ep + 1, model.table(*a.table_args))
    return best[2][0], best[2][1], hist, best[1]


def train(a):
    """Trains the channel per task; with --seeds K, K bags from different seeds are averaged (their folded tables
    add, so the graph does not grow): bagging lowers the variance of a model that overfits within an epoch or two."""
    torch.set_num_threads(1)
    log = lambda m: print(m, flush=True)  # noqa: E731
    tok = load_tok(a.tokenizer)[0]
    d = N.build(a.data, seed=a.seed, noncommercial=a.noncommercial, log=lambda *x: None)
    n_rows = tok.vocab_size + a.b2 + a.b3
    subwords = N.subword_rows(tok, n_rows, a.subword_buckets) if a.subword_buckets else None
    rows = n_rows + a.subword_buckets
    a.table_args = (tok.vocab_size, n_rows, subwords)
    sel_f = {k: _feats(tok, v[0], a, subwords) for k, v in d["sel"].items()}
    tables, biases, report = [], [], {}
    for task in ["sent", "mod"]:
        if task == "sent":
            texts = [t for t, _, _ in d["sent_train"]]
            y = torch.tensor([y for _, y, _ in d["sent_train"]])
            w = torch.tensor([w for _, _, w in d["sent_train"]], dtype=torch.float32)
            counts = np.bincount(y.numpy(), minlength=3).astype(np.float32)
            cw = torch.tensor((counts.sum() / (3 * counts)) ** 0.5, dtype=torch.float32)  # as signals.py
            k = 3
        else:
            texts = [t for t, _, _ in d["mod_train"]]
            y = torch.tensor([y for _, y, _ in d["mod_train"]], dtype=torch.float32)
            w = torch.tensor([m for _, _, m in d["mod_train"]], dtype=torch.float32)
            cw, k = None, 4
        feats, wts, lens, offs = _feats(tok, texts, a, subwords)
        runs = []
        for r in range(a.seeds):
            torch.manual_seed(a.seed + r)
            runs.append(_fit(task, Bag(rows, a.dim, k), feats, wts, lens, offs, y, w, cw, sel_f, d["sel"], a,
                             a.seed + r, log))
        T = np.mean([x[0] for x in runs], 0)
        b = np.mean([x[1] for x in runs], 0)
        tables.append(T)
        biases.append(b)
        report[task] = {"runs": [{"epochs": x[2], "chosen_epoch": x[3]} for x in runs], "train_rows": len(lens)}
        log(f"{task}: chosen epochs {[x[3] for x in runs]} on the selection slices")
    os.makedirs(a.work, exist_ok=True)
    letter, cjk = N.script_tables(tok)
    np.savez(os.path.join(a.work, "channel.npz"), table=np.concatenate(tables, 1).astype(np.float32),
             b_sent=biases[0], b_mod=biases[1], letter=letter, cjk=cjk,
             vocab=tok.vocab_size, b2=a.b2, b3=a.b3, dim=a.dim)
    C.atomic_write_json(os.path.join(a.work, "train_report.json"), report)


def prepare(a):
    d = N.build(a.data, seed=a.seed, noncommercial=a.noncommercial)
    os.makedirs(a.work, exist_ok=True)
    C.atomic_write_json(os.path.join(a.work, "sel_texts.json"), {k: v[0] for k, v in d["sel"].items()})
    C.atomic_write_json(os.path.join(a.work, "sel_labels.json"), {k: v[1] for k, v in d["sel"].items()})
    print("selection slices:", {k: len(v[0]) for k, v in d["sel"].items()})


def load_channel(work):
    """The trained channel with its table quantized as it ships (int8 rows, one fp16 scale per row, in the fp32 and
    the int8 graph alike: the size budget of the bundle); `table` is the dequantized table, what both graphs compute
    with, so that selection, thresholds and parity use exactly the shipped numbers."""
    z = np.load(os.path.join(work, "channel.npz"))
    ch = {k: z[k] for k in ["table", "b_sent", "b_mod", "letter", "cjk"]}
    ch.update({k: int(z[k]) for k in ["vocab", "b2", "b3", "dim"]})
    T = ch["table"].astype(np.float32)
    scale = (np.maximum(np.abs(T).max(1, keepdims=True), 1e-8) / 127.0).astype(np.float16)
    ch["table_q"] = np.clip(np.round(T / scale.astype(np.float32)), -127, 127).astype(np.int8)
    ch["table_scale"] = scale
    ch["table"] = ch["table_q"].astype(np.float32) * scale.astype(np.float32)
    return ch


def channel_logits(ch, tok, texts, w_en, w_zh):
    from ngram_export import channel_numpy

    c = dict(ch, w_en=np.asarray(w_en, np.float32), w_zh=np.asarray(w_zh, np.float32))
    seqs = D.encode_all(tok, [C.clean_tweet(t) for t in texts], MAX_LEN)
    out = [channel_numpy(c, s) for s in seqs]
    return np.stack([o[0] for o in out]), np.stack([o[1] for o in out])


def _smooth_argmax(grid, scores):
    """The weight whose score, averaged with its grid neighbours, is highest: a guard against picking a lucky spike
    of one small slice."""
    s = np.asarray(scores)
    sm = np.array([s[max(0, i - 1): i + 2].mean() for i in range(len(s))])
    return float(grid[int(sm.argmax())])


def select(a):
    tok = load_tok(a.tokenizer)[0]
    ch = load_channel(a.work)
    texts = json.load(open(os.path.join(a.work, "sel_texts.json")))
    labels = json.load(open(os.path.join(a.work, "sel_labels.json")))
    base = json.load(open(os.path.join(a.work, "base_logits.json")))
    ones = np.ones(7, np.float32)
    # channel logits at unit weight (pure English / pure Chinese slices: both weights 1 gives the unit channel)
    ft = {k: channel_logits(ch, tok, texts[k], ones, ones) for k in texts}
    bs = {k: (np.array(base[k]["sent"], np.float32), np.array(base[k]["mod"], np.float32)) for k in texts}
    grid = np.round(np.arange(0.0, 3.01, 0.1), 2)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    curves = {}

    def curve(name, fn):
        curves[name] = [round(fn(w), 4) for w in grid]
        return _smooth_argmax(grid, curves[name])

    ys = np.array(labels["sent_en"])
    w_sent_en = curve("sentiment_en (sent_dev macro-recall)",
                      lambda w: D.macro_recall(ys, (bs["sent_en"][0] + w * ft["sent_en"][0]).argmax(1)))
    yz = np.array(labels["sent_zh"])
    w_sent_zh = curve("sentiment_zh (ChnSentiCorp band [10,15) accuracy)", lambda w: float(
        (np.where((bs["sent_zh"][0] + w * ft["sent_zh"][0])[:, 2] > (bs["sent_zh"][0] + w * ft["sent_zh"][0])[:, 0], 2, 0) == yz).mean()))
    yo = np.array(labels["olid"])
    w_mod_en = []
    for j, lab in enumerate(D.MODERATION_LABELS):
        if lab == "hate":
            y, k = np.array(labels["hate"]), "hate"
        else:
            y, k = yo[:, j], "olid"
        w_mod_en.append(curve(f"{lab}_en ({k} train hold-out, macro-F1 at its best threshold)", lambda w: D.best_f1_threshold(
            y, sig(bs[k][1][:, j] + w * ft[k][1][:, j]))[1]))
    yc = np.array(labels["cold"])
    w_off_zh = curve("offensive_zh (COLD train hold-out, macro-F1 at its best threshold)", lambda w: D.best_f1_threshold(
        yc, sig(bs["cold"][1][:, 0] + w * ft["cold"][1][:, 0]))[1])
    w_en = np.array([w_sent_en] * 3 + w_mod_en, np.float32)
    w_zh = np.array([w_sent_zh] * 3 + [w_off_zh] + w_mod_en[1:], np.float32)
    if a.heads == "sentiment":  # the channel on the sentiment head only: moderation is the base model's, unchanged
        w_en[3:], w_zh[3:] = 0.0, 0.0
    # the ensemble on the selection slices at the chosen weights (the graph's own computation)
    ens = {}
    for k in texts:
        s, m = channel_logits(ch, tok, texts[k], w_en, w_zh)
        ens[k] = (bs[k][0] + s, bs[k][1] + m)
    # thresholds exactly as signals.py calibrate, on the ensemble's logits
    probs = {"offensive": sig(ens["olid"][1][:, 0]), "insult": sig(ens["olid"][1][:, 1]),
             "group_attack": sig(ens["olid"][1][:, 2]), "hate": sig(ens["hate"][1][:, 3])}
    gold = {"offensive": yo[:, 0], "insult": yo[:, 1], "group_attack": yo[:, 2], "hate": np.array(labels["hate"])}
    f1_thr, default_thr, notes = {}, {}, {}
    for k in D.MODERATION_LABELS:
        t, f = D.best_f1_threshold(gold[k], probs[k])
        tp, prec, rec = D.precise_threshold(gold[k], probs[k], beta=0.5, min_t=t)
        f1_thr[k], default_thr[k] = round(t, 3), round(tp, 3)
        notes[k] = {"f1_threshold": round(t, 3), "train_dev_macro_f1": round(f, 4), "default_threshold": round(tp, 3),
                    "train_dev_precision_at_default": round(prec, 4), "train_dev_recall_at_default": round(rec, 4)}
    pc = sig(ens["cold"][1][:, 0])
    tz, fz = D.best_f1_threshold(yc, pc)
    tzp, precz, recz = D.precise_threshold(yc, pc, beta=0.5, min_t=tz)
    notes["offensive_zh"] = {"f1_threshold": round(tz, 3), "cold_cal_macro_f1": round(fz, 4),
                             "default_threshold": round(tzp, 3), "cold_cal_precision_at_default": round(precz, 4),
                             "cold_cal_recall_at_default": round(recz, 4)}
    zh = {"f1_thresholds": dict(f1_thr, offensive=round(tz, 3)),
          "default_thresholds": dict(default_thr, offensive=round(tzp, 3))}
    if a.heads == "sentiment":
        st = json.load(open(os.path.join(a.base, "config.json")))["steward"]
        f1_thr, default_thr = st["f1_thresholds"], st["default_thresholds"]
        zh = st["thresholds_by_language"]["zh"]
        notes = {"note": f"moderation logits are {st['version']}'s: its thresholds are kept"}
    base_vs = {"sent_en_macro_recall": [D.macro_recall(ys, bs["sent_en"][0].argmax(1)),
                                        D.macro_recall(ys, ens["sent_en"][0].argmax(1))]}
    sel = {"w_en": w_en.tolist(), "w_zh": w_zh.tolist(), "curves": {"grid": grid.tolist(), **curves},
           "base_vs_ensemble_on_selection": base_vs, "f1_thresholds": f1_thr, "default_thresholds": default_thr,
           "thresholds_by_language": {"zh": zh}, "threshold_notes": notes}
    C.atomic_write_json(os.path.join(a.work, "selection.json"), sel)
    print(json.dumps({k: v for k, v in sel.items() if k != "curves"}, indent=1))
    for k, v in curves.items():
        print(f"  {k}: " + " ".join(f"{w:g}:{s:.3f}" for w, s in zip(grid, v)))


def export(a):
    from ngram_export import channel_graph, channel_numpy, merge

    tok = load_tok(a.tokenizer)[0]
    ch = load_channel(a.work)
    sel = json.load(open(os.path.join(a.work, "selection.json")))
    ch.update(w_en=np.array(sel["w_en"], np.float32), w_zh=np.array(sel["w_zh"], np.float32))
    cfg = json.load(open(os.path.join(a.base, "config.json")))
    st = cfg["steward"]
    if "linear_ngram_channel" in st:
        raise SystemExit(f"{a.base} already has the n-gram channel ({st['version']}): give the model it was added to")
    b = a.bundle
    if os.path.abspath(b) == os.path.abspath(a.base):
        raise SystemExit("--bundle must differ from --base (the base model's files are read while the bundle is written)")
    os.makedirs(os.path.join(b, "onnx"), exist_ok=True)
    chp = os.path.join(a.work, "channel.onnx")
    import onnx

    onnx.save(channel_graph(ch), chp)
    merge(os.path.join(a.base, "onnx", "model.onnx"), chp, os.path.join(b, "onnx", "model.onnx"))
    merge(os.path.join(a.base, "onnx", "model_quantized.onnx"), chp, os.path.join(b, "onnx", "model_quantized.onnx"))
    for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer_parity.json"]:
        shutil.copy(os.path.join(a.base, f), os.path.join(b, f))
    base_version = st["version"]
    st["version"] = VERSION
    st["default_thresholds"], st["f1_thresholds"] = sel["default_thresholds"], sel["f1_thresholds"]
    st["thresholds_by_language"] = sel["thresholds_by_language"]
    tr = json.load(open(os.path.join(a.work, "train_report.json")))
    st["linear_ngram_channel"] = {
        "base": base_version, "rows": {"unigrams": ch["vocab"], "bigram_buckets": ch["b2"], "trigram_buckets": ch["b3"]},
        "dim": ch["dim"], "hash": "bigram (p1*1000003+id) mod B2, trigram ((p2*1000003+p1)*1000003+id) mod B3",
        "weights_en": sel["w_en"], "weights_zh": sel["w_zh"], "weight_order": st["sentiment_labels"] + st["moderation_labels"],
        "epochs": {k: [r["chosen_epoch"] for r in v["runs"]] for k, v in tr.items()},
        "note": ("fastText-style channel trained separately on the signals training rows; its logits, weighted per head "
                 "and language (CJK share of the letter tokens interpolates), are added to the base model's inside the "
                 "graph; weights and thresholds chosen on the train selection slices (ngram.py select)")}
    json.dump(cfg, open(os.path.join(b, "config.json"), "w"), indent=2)
    # parity: the base model's PyTorch outputs (its parity.json) plus the channel's numpy twin
    par = json.load(open(os.path.join(a.base, "parity.json")))
    for c in par["cases"]:
        s, m, at = channel_numpy(ch, c["input_ids"])
        o = c["outputs"]
        o["sentiment_logits"] = (np.array(o["sentiment_logits"]) + s).tolist()
        o["moderation_logits"] = (np.array(o["moderation_logits"]) + m).tolist()
        o["moderation_attribution"] = (np.array(o["moderation_attribution"]) + at).tolist()
    par["version"] = VERSION
    par["note"] = f"expected outputs = {base_version} PyTorch outputs + the n-gram channel (numpy, ngram_export.channel_numpy)"
    C.atomic_write_json(os.path.join(b, "parity.json"), par)
    print("exported", b, {f: os.path.getsize(os.path.join(b, "onnx", f)) for f in os.listdir(os.path.join(b, "onnx"))})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["prepare", "train", "select", "export", "all"])
    ap.add_argument("--data", default=C.DEFAULT_DATA)
    ap.add_argument("--work", default=os.path.join(C.WORK, "ngram"))
    ap.add_argument("--tokenizer", default=C.SIGNALS_TOKENIZER_DIR)
    ap.add_argument("--base", default=os.path.join(C.REPO, "models", "bundled", "signals"),
                    help="the signals model folder the channel is added to")
    ap.add_argument("--bundle", default=os.path.join(C.WORK, "signals-0.3.2"))
    ap.add_argument("--heads", choices=["both", "sentiment"], default="both",
                    help="heads the channel is added to (sentiment: moderation stays the base model's)")
    ap.add_argument("--no-noncommercial", dest="noncommercial", action="store_false")
    ap.add_argument("--b2", type=int, default=1 << 17, help="bigram hash buckets")
    ap.add_argument("--b3", type=int, default=1 << 16, help="trigram hash buckets")
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--seeds", type=int, default=4, help="bags trained from different seeds and averaged")
    ap.add_argument("--subword-buckets", type=int, default=1 << 17,
                    help="hashed character 3-5-grams of each token's piece (folded into the token rows; 0 = off)")
    a = ap.parse_args()
    C.run_channel_steps(a, a.base, prepare, train, select, export)


if __name__ == "__main__":
    main()
