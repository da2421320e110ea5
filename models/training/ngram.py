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
import subprocess
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
        self.emb = nn.EmbeddingBag(rows, dim, mode="mean", sparse=True)
        nn.init.uniform_(self.emb.weight, -1.0 / dim, 1.0 / dim)
        self.out = nn.Linear(dim, k)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, flat, offsets):
        return self.out(self.emb(flat, offsets))

    def table(self):
        """Per-row logits (the head folded into the table: mean(E) W^T + b = mean(E W^T) + b)."""
        with torch.no_grad():
            return (self.emb.weight @ self.out.weight.t()).numpy(), self.out.bias.numpy().copy()


def _batch(feats, lens, offs, idx):
    parts = [feats[offs[i]: offs[i] + lens[i]] for i in idx]
    o = np.cumsum([0] + [len(x) for x in parts[:-1]]).astype(np.int64)
    return torch.from_numpy(np.concatenate(parts)), torch.from_numpy(o)


def _predict(model, feats, lens, offs, batch=1024):
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(lens), batch):
            f, o = _batch(feats, lens, offs, range(s, min(s + batch, len(lens))))
            out.append(model(f, o).numpy())
    model.train()
    return np.concatenate(out)


def _feats(tok, texts, a):
    flat, offs, lens = N.featurize(tok, texts, MAX_LEN, tok.vocab_size, a.b2, a.b3)
    return flat, np.asarray(lens), offs


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


def train(a):
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    tok = load_tok(a.tokenizer)[0]
    d = N.build(a.data, seed=a.seed, noncommercial=a.noncommercial, log=lambda *x: None)
    rows = tok.vocab_size + a.b2 + a.b3
    sel_f = {k: _feats(tok, v[0], a) for k, v in d["sel"].items()}
    tables, biases, report = [], [], {}
    for task in ["sent", "mod"]:
        t0 = time.time()
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
            k = 4
        feats, lens, offs = _feats(tok, texts, a)
        model = Bag(rows, a.dim, k)
        opt_e = torch.optim.SparseAdam(list(model.emb.parameters()), lr=a.lr)
        opt_o = torch.optim.Adam(list(model.out.parameters()), lr=a.lr)
        rng = np.random.default_rng(a.seed)
        n = len(lens)
        steps_per_epoch = (n + a.batch - 1) // a.batch
        total = steps_per_epoch * a.epochs
        best, step, hist = None, 0, []
        for ep in range(a.epochs):
            perm = rng.permutation(n)
            for s in range(0, n, a.batch):
                idx = perm[s: s + a.batch]
                lr = a.lr * max(0.0, 1.0 - step / total)  # fastText's linear decay
                for o in (opt_e, opt_o):
                    for g in o.param_groups:
                        g["lr"] = lr
                f, o = _batch(feats, lens, offs, idx)
                out = model(f, o)
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
            keys = ["sent_en", "sent_zh"] if task == "sent" else ["olid", "hate", "cold"]
            logits = {kk: _predict(model, *sel_f[kk]) for kk in keys}
            sc = _sel_score(task, logits, d["sel"])
            hist.append({"epoch": ep + 1, **{kk: round(v, 4) for kk, v in sc.items()}})
            print(f"  {task} epoch {ep + 1}/{a.epochs} loss {float(loss):.3f} selection {hist[-1]} "
                  f"({time.time() - t0:.0f} s)", flush=True)
            if best is None or sum(sc.values()) > best[0]:
                best = (sum(sc.values()), ep + 1, model.table())
        tables.append(best[2][0])
        biases.append(best[2][1])
        report[task] = {"epochs": hist, "chosen_epoch": best[1], "train_rows": n}
        print(f"{task}: chose epoch {best[1]} on the selection slices", flush=True)
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
    z = np.load(os.path.join(work, "channel.npz"))
    ch = {k: z[k] for k in ["table", "b_sent", "b_mod", "letter", "cjk"]}
    ch.update({k: int(z[k]) for k in ["vocab", "b2", "b3", "dim"]})
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
    from quantize import quantize

    tok = load_tok(a.tokenizer)[0]
    ch = load_channel(a.work)
    sel = json.load(open(os.path.join(a.work, "selection.json")))
    ch.update(w_en=np.array(sel["w_en"], np.float32), w_zh=np.array(sel["w_zh"], np.float32))
    b = a.bundle
    os.makedirs(os.path.join(b, "onnx"), exist_ok=True)
    chp, chq = os.path.join(a.work, "channel.onnx"), os.path.join(a.work, "channel_quantized.onnx")
    import onnx

    onnx.save(channel_graph(ch), chp)
    quantize(chp, chq)
    merge(os.path.join(a.base, "onnx", "model.onnx"), chp, os.path.join(b, "onnx", "model.onnx"))
    merge(os.path.join(a.base, "onnx", "model_quantized.onnx"), chq, os.path.join(b, "onnx", "model_quantized.onnx"))
    for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer_parity.json"]:
        shutil.copy(os.path.join(a.base, f), os.path.join(b, f))
    cfg = json.load(open(os.path.join(a.base, "config.json")))
    st = cfg["steward"]
    base_version = st["version"]
    st["version"] = VERSION
    st["default_thresholds"], st["f1_thresholds"] = sel["default_thresholds"], sel["f1_thresholds"]
    st["thresholds_by_language"] = sel["thresholds_by_language"]
    tr = json.load(open(os.path.join(a.work, "train_report.json")))
    st["linear_ngram_channel"] = {
        "base": base_version, "rows": {"unigrams": ch["vocab"], "bigram_buckets": ch["b2"], "trigram_buckets": ch["b3"]},
        "dim": ch["dim"], "hash": "bigram (p1*1000003+id) mod B2, trigram ((p2*1000003+p1)*1000003+id) mod B3",
        "weights_en": sel["w_en"], "weights_zh": sel["w_zh"], "weight_order": st["sentiment_labels"] + st["moderation_labels"],
        "epochs": {k: v["chosen_epoch"] for k, v in tr.items()},
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
    ap.add_argument("--no-noncommercial", dest="noncommercial", action="store_false")
    ap.add_argument("--b2", type=int, default=1 << 17, help="bigram hash buckets")
    ap.add_argument("--b3", type=int, default=1 << 17, help="trigram hash buckets")
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args()
    if a.cmd in ("prepare", "all"):
        prepare(a)
    if a.cmd == "all":
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run(["node", os.path.join(here, "ngram_logits.mjs"), a.base, os.path.join(a.work, "sel_texts.json"),
                        os.path.join(a.work, "base_logits.json"), "--dtype", "q8"], check=True)
    if a.cmd in ("train", "all"):
        train(a)
    if a.cmd in ("select", "all"):
        select(a)
    if a.cmd in ("export", "all"):
        export(a)


if __name__ == "__main__":
    main()
