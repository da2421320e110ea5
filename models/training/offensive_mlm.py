"""Issue 14: does longer masked-LM pretraining of the signals encoder lift English `offensive` on unseen data?

The issue names two routes to FastText-level results: an n-gram channel (shipped as the lexical channel) and
"pretraining the encoder longer on all the unlabelled text in ../shared/datasets (masked LM)". This script measures the
second one before anyone spends a 90-minute signals.py run on it. One MLM run of the signals encoder (signals.py's
`Signals` class and shape: d 128, 4 layers, 4 heads, ff 512, the signals-0.3 tokenizer) saves snapshots along the way;
each snapshot, and an untrained encoder, is fine-tuned on English `offensive` with 5-fold CV over OLID's training rows,
exactly offensive_selftrain.py's folds (weak chat negatives always in training). So the curve "pretraining minutes ->
CV macro-F1 / AUC", alone and mixed with the lexical channel's out-of-fold logits, says whether more pretraining helps.
Val and the gun-control tweets are scored once, afterwards (`unseen`), never used to choose.

  export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
  (offensive_selftrain.py's prep steps and `offensive_selftrain.py run baseline` first: rows, folds, lexical oof logits;
   `npm run train -- tokenizer --profile signals` for work/tokenizer_signals)
  /usr/bin/python3 models/training/offensive_mlm.py corpus
  /usr/bin/python3 models/training/offensive_mlm.py pretrain --snaps 15,35,70 [--threads 1]
  /usr/bin/python3 models/training/offensive_mlm.py finetune SNAP [SNAP ...] [--lr 3e-4 --epochs 2 --tag T]
                                                                     (SNAP: init, m15, m35, ...)
  /usr/bin/python3 models/training/offensive_mlm.py table
  /usr/bin/python3 models/training/offensive_mlm.py unseen SNAP [...]

Run on 2026-12-05 for issue 14: 70 minutes of MLM (19 M tokens) gave the fine-tuned transformer +0.4 CV macro-F1 and
+0.9 AUC, the mix with the lexical channel nothing (CV 75.4 either way), val and gun control no gain; not kept. The
table is in models/training/README.md.

Corpus (English only): the harness's unlabelled tweet pool (SemEval sentiment train, TweetEval irony / emotion train,
TweetTopic), the offensive training rows (OLID train outside the selection slice and gun control, weak chat
negatives), Self-dialogue train, DailyDialog train; every selection, validation and gun-control text removed;
Topical-Chat (an unseen set) not used.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "models", "training"))
import lexical as L  # noqa: E402
import offensive_clusters as K  # noqa: E402
import offensive_selftrain as S  # noqa: E402
import signals as G  # noqa: E402
import signals_data as D  # noqa: E402
from tokenizer import SpTokenizer  # noqa: E402

OUT = os.path.join(REPO, "models", "training", "work", "offensive_mlm")
TOK = os.path.join(REPO, "models", "training", "work", "tokenizer_signals", "tokenizer.model")
SHAPE = dict(d=128, layers=4, heads=4, ff=512, max_len=128, n_mod=1, emb_dim=256, drop=0.1)
MAX_LEN = 64
sig = S.sig


def _tok():
    return SpTokenizer(TOK)


def corpus():
    os.makedirs(OUT, exist_ok=True)
    texts = [t for t in K.unlabelled_texts() if t.strip()]
    seqs = [np.array(x, np.int32) for x in D.encode_all(_tok(), texts, MAX_LEN)]
    n_tok = sum(len(s) for s in seqs)
    pickle.dump(seqs, open(os.path.join(OUT, "corpus.pkl"), "wb"))
    print(f"corpus: {len(seqs)} lines, {n_tok} tokens (signals tokenizer, cut at {MAX_LEN})")


def _save(model, name, info):
    sd = {k: v for k, v in model.state_dict().items() if not k.startswith(("mod_", "sent_", "emb_p"))}
    torch.save({"state": sd, "info": info}, os.path.join(OUT, f"snap_{name}.pt"))


def pretrain(a):
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    seqs = pickle.load(open(os.path.join(OUT, "corpus.pkl"), "rb"))
    tok = _tok()
    model = G.Signals(tok.vocab_size, **SHAPE)
    _save(model, "init", {"minutes": 0, "steps": 0, "tokens": 0})
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    samp = D.BucketSampler([len(s) for s in seqs], a.batch, a.seed)
    rng = np.random.default_rng(a.seed)
    snaps = sorted(float(x) for x in a.snaps.split(","))
    t0, step, n_tok, hist, total = time.time(), 0, 0, [], sum(len(s) for s in seqs)
    model.train()
    while snaps:
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * min(1.0, math.sqrt(a.warmup / (step + 1)))
        for g in opt.param_groups:
            g["lr"] = lr
        ids, mask = D.pad([seqs[i] for i in samp.next()])
        mids, labels = G.mask_tokens(ids, mask, tok.vocab_size, rng)
        h, _ = model.encode(torch.from_numpy(mids), torch.from_numpy(mask))
        lab = torch.from_numpy(labels)
        sel = lab != -100
        loss = F.cross_entropy(model.mlm_logits(h[sel]), lab[sel])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        n_tok += int(mask.sum())
        hist.append(float(loss))
        minutes = (time.time() - t0) / 60
        if step % 200 == 0:
            print(f"step {step} {minutes:.1f} min loss {np.mean(hist[-200:]):.3f} lr {lr:.2e} "
                  f"epochs {n_tok / total:.2f}", flush=True)
        if minutes >= snaps[0]:
            name = f"m{snaps.pop(0):g}"
            _save(model, name, {"minutes": round(minutes, 1), "steps": step, "tokens": n_tok,
                                "loss": round(float(np.mean(hist[-200:])), 3)})
            print(f"snapshot {name} at step {step}", flush=True)


class Offensive(torch.nn.Module):
    """The signals encoder with its moderation head for one label (signals.py's attention pooling of token scores)."""

    def __init__(self, vocab):
        super().__init__()
        self.m = G.Signals(vocab, **SHAPE)

    def forward(self, ids, mask):
        h, m = self.m.encode(ids, mask)
        return self.m.heads(h, m)[1][:, 0]


def _rows():
    m, _ = S.load()
    yo, wo, is_olid = np.array(m["off_y"]), np.array(m["off_w"]), np.array(m["off_is_olid"])
    toff = m["texts"]["off"]
    texts = [t for t, o in zip(toff, is_olid) if o] + list(m["texts"]["sel"])
    y = np.r_[yo[is_olid], np.array(m["sel_y"])]
    w = np.r_[wo[is_olid], np.ones(len(m["sel_y"]))]
    weak = ([t for t, o in zip(toff, is_olid) if not o], yo[~is_olid], wo[~is_olid])
    folds = np.array_split(np.random.default_rng(0).permutation(len(y)), 5)  # = offensive_selftrain.run's folds
    return m, texts, y, w, weak, folds


def _predict(model, seqs, batch=256):
    model.eval()
    out = np.zeros(len(seqs), np.float32)
    order = np.argsort([len(s) for s in seqs])
    with torch.no_grad():
        for s in range(0, len(order), batch):
            idx = order[s: s + batch]
            ids, mask = D.pad([seqs[i] for i in idx])
            out[idx] = model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    return out


def _finetune_one(snap, X, y, w, a):
    torch.manual_seed(a.seed)
    model = Offensive(_tok().vocab_size)
    st = torch.load(os.path.join(OUT, f"snap_{snap}.pt"))["state"]
    missing, _ = model.m.load_state_dict(st, strict=False)
    assert all(k.startswith(("mod_", "sent_", "emb_p")) for k in missing), missing
    enc = [p for n, p in model.named_parameters() if not n.startswith("m.mod_")]
    head = [p for n, p in model.named_parameters() if n.startswith("m.mod_")]
    opt = torch.optim.AdamW([{"params": enc, "lr": a.lr}, {"params": head, "lr": a.lr * 3}], weight_decay=0.01)
    pos = float((w * y).sum()) / float(w.sum())
    pw = torch.tensor((1 - pos) / pos)  # balanced classes, as the lexical channel's class_weight="balanced"
    samp = D.BucketSampler([len(s) for s in X], a.batch, a.seed)
    steps = int(a.epochs * len(X) / a.batch)
    base = [g["lr"] for g in opt.param_groups]
    model.train()
    for step in range(steps):
        f = min(1.0, (step + 1) / 100) * (1 - step / steps)
        for g, b in zip(opt.param_groups, base):
            g["lr"] = b * f
        idx = samp.next()
        ids, mask = D.pad([X[i] for i in idx])
        lo = model(torch.from_numpy(ids), torch.from_numpy(mask))
        loss = (F.binary_cross_entropy_with_logits(lo, torch.from_numpy(y[idx]).float(), pos_weight=pw,
                                                   reduction="none") * torch.from_numpy(w[idx]).float()).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return model


def finetune(a):
    torch.set_num_threads(a.threads)
    m, texts, y, w, (wt, wy, ww), folds = _rows()
    tok = _tok()
    X = D.encode_all(tok, texts, MAX_LEN)
    Xw = D.encode_all(tok, wt, MAX_LEN)
    U = {k: D.encode_all(tok, m["texts"][k], MAX_LEN) for k in ("val", "gun")}
    res_p = os.path.join(OUT, "results.json")
    for snap in a.snaps:
        t0 = time.time()
        oof = np.zeros(len(y), np.float32)
        unseen = {k: np.zeros(len(v), np.float32) for k, v in U.items()}
        for i, f in enumerate(folds):
            tr = np.setdiff1d(np.arange(len(y)), f)
            model = _finetune_one(snap, [X[j] for j in tr] + Xw, np.r_[y[tr], wy], np.r_[w[tr], ww], a)
            oof[f] = _predict(model, [X[j] for j in f])
            for k in U:  # the fold models' mean on val / gun control: kept for `unseen`, not printed here
                unseen[k] += _predict(model, U[k]) / len(folds)
            print(f"  {snap} fold {i} ({time.time() - t0:.0f} s)", flush=True)
        name = snap + a.tag
        np.savez(os.path.join(OUT, f"logits_{name}.npz"), oof=oof, **unseen)
        r = _score(snap, y, oof)
        r["finetune"] = {"lr": a.lr, "epochs": a.epochs, "batch": a.batch}
        r["seconds"] = round(time.time() - t0)
        res = json.load(open(res_p)) if os.path.exists(res_p) else {}
        res[name] = r
        json.dump(res, open(res_p, "w"), indent=1)
        _print(name, r)


def _score(snap, y, oof):
    lex = np.load(os.path.join(S.CACHE, "oof_baseline.npy"))
    grid = np.round(np.arange(0.0, 1.001, 0.05), 2)
    curve = [D.best_f1_threshold(y, sig((1 - wl) * oof + wl * lex))[1] for wl in grid]
    wl = L._smooth_argmax(grid, curve)
    mix = (1 - wl) * oof + wl * lex
    p = os.path.join(OUT, f"snap_{snap}.pt")
    info = torch.load(p)["info"] if os.path.exists(p) else {}
    return {"pretrain": info, "cv": 100 * D.best_f1_threshold(y, sig(oof))[1], "cv_auc": 100 * S.auc(y, oof),
            "mix_w_lex": wl, "cv_mix": 100 * D.best_f1_threshold(y, sig(mix))[1], "cv_mix_auc": 100 * S.auc(y, mix),
            "lex_cv": 100 * D.best_f1_threshold(y, sig(lex))[1], "lex_cv_auc": 100 * S.auc(y, lex)}


def _print(snap, r):
    pt = r["pretrain"]
    print(f"{snap:8s} pretrain {pt.get('minutes', '-')} min / {pt.get('tokens', 0) / 1e6:.0f} M tokens "
          f"(mlm loss {pt.get('loss', '-')}): transformer cv {r['cv']:.1f} auc {r['cv_auc']:.2f}; "
          f"mix (lexical w {r['mix_w_lex']}) cv {r['cv_mix']:.1f} auc {r['cv_mix_auc']:.2f}; "
          f"lexical alone cv {r['lex_cv']:.1f} auc {r['lex_cv_auc']:.2f}", flush=True)


def table():
    res = json.load(open(os.path.join(OUT, "results.json")))
    for snap, r in res.items():
        _print(snap, r)


def unseen(snaps):
    """Val and gun control, once, after choosing: the fold models' mean logit, alone and mixed with the shipped-recipe
    lexical fit (offensive_selftrain's baseline model) at the CV-chosen weight; macro-F1 at the CV threshold and at the
    set's own best threshold (an upper bound)."""
    m, _, y, _, _, _ = _rows()
    res = json.load(open(os.path.join(OUT, "results.json")))
    z = np.load(os.path.join(S.CACHE, "model_baseline.npz"))
    lex_model = (z["coef"], float(z["b"]))
    _, X = S.load()
    lex_oof = np.load(os.path.join(S.CACHE, "oof_baseline.npy"))
    for snap in snaps:
        lg = np.load(os.path.join(OUT, f"logits_{snap}.npz"))
        wl = res[snap]["mix_w_lex"]
        t_alone = D.best_f1_threshold(y, sig(lg["oof"]))[0]
        t_mix = D.best_f1_threshold(y, sig((1 - wl) * lg["oof"] + wl * lex_oof))[0]
        out = []
        for k in ("val", "gun"):
            yk = np.array(m[f"{k}_y"])
            lk = S.logit(lex_model, X[k])
            for name, s, t in (("alone", lg[k], t_alone), ("mix", (1 - wl) * lg[k] + wl * lk, t_mix)):
                p = sig(s)
                at = 100 * D.macro_f1(yk, (p >= t).astype(int))
                out.append(f"{k} {name} {at:.1f} (best {100 * D.best_f1_threshold(yk, p)[1]:.1f}, "
                           f"auc {100 * S.auc(yk, s):.1f})")
        print(f"{snap}: " + "; ".join(out), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["corpus", "pretrain", "finetune", "table", "unseen"])
    ap.add_argument("snaps_pos", nargs="*")
    ap.add_argument("--snaps", default="15,35,70", help="pretrain: minutes at which to save a snapshot")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--lr", type=float, default=0)
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--epochs", type=float, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--tag", default="", help="finetune: suffix of the result's name (a recipe variant)")
    a = ap.parse_args()
    if a.cmd == "corpus":
        corpus()
    elif a.cmd == "pretrain":
        a.batch, a.lr = a.batch or 128, a.lr or 1e-3
        pretrain(a)
    elif a.cmd == "finetune":
        a.batch, a.lr, a.snaps = a.batch or 32, a.lr or 3e-4, a.snaps_pos
        finetune(a)
    elif a.cmd == "table":
        table()
    else:
        unseen(a.snaps_pos)


if __name__ == "__main__":
    main()
