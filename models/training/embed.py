"""Steward "embed" model: a small sentence encoder for library retrieval (issue 10).

Same shape and tokenizer as the signals model (vocab 16000, hidden 128, 4 pre-LN layers, 4 heads, FF 512, 128
positions; the signals en+zh BPE), initialised from signals-0.3.1's fp32 ONNX weights and fine-tuned with a symmetric
InfoNCE loss (in-batch negatives, temperature 0.05) on pairs of clinc150 *train* requests of the same intent (one pair
per intent per batch, so no false negatives), plus Topical-Chat message <-> grounding Wikipedia lead pairs.
Sentence embedding = mean of last_hidden_state over the attention mask, L2-normalised (done in JS at runtime).

  /usr/bin/python3 models/training/embed.py prepare                 tokenise every text through transformers.js (Node)
  /usr/bin/python3 models/training/embed.py train [--minutes 30] [--holdout-domains banking,travel,work] [--out DIR]
  /usr/bin/python3 models/training/embed.py eval  [--out DIR] [--node fp32|q8 --bundle DIR] [--before]
  /usr/bin/python3 models/training/embed.py export [--out DIR] [--bundle models/bundled/embed]
  /usr/bin/python3 models/training/embed.py all   ...               (prepare, train, eval, export)

Never trained on: clinc150 `val` / `oos_val` (the evaluation), nor train requests [16, 21) of each intent and
`oos_train` (the slice the "I don't know" threshold is calibrated on, here and in bench/library-eval.ts).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common as C  # noqa: E402
from signals import Block  # noqa: E402  (the same pre-LN block as signals: fused qkv, GELU FF)

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
WORK = os.path.join(HERE, "work")
SIGNALS = os.path.join(REPO, "models", "bundled", "signals")
VERSION = "embed-0.1.0"
VERSION_QA = "embed-0.2.0"   # the same recipe plus self_dialogue question -> answer pairs (--qa-frac)
ITEM_EXAMPLES = 16          # library item = first 16 train requests of an intent (bench/library-eval.ts)
CALIB = (16, 21)            # train requests [16, 21) per intent: threshold calibration, never trained on
EOS = 1
NODE = os.environ.get("STEWARD_NODE", "node")


# --------------------------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------------------------
class Embed(nn.Module):
    def __init__(self, vocab=16000, d=128, layers=4, heads=4, ff=512, max_len=128, drop=0.1):
        super().__init__()
        self.cfg = dict(vocab=vocab, d=d, layers=layers, heads=heads, ff=ff, max_len=max_len, drop=drop)
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_len, d)
        self.ln_in = nn.LayerNorm(d)
        self.drop = nn.Dropout(drop)
        self.blocks = nn.ModuleList([Block(d, heads, ff, drop) for _ in range(layers)])
        self.ln_out = nn.LayerNorm(d)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
                if isinstance(m, nn.Linear) and m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, ids, mask):
        """last_hidden_state [B, T, d]"""
        T = ids.shape[1]
        pos = torch.arange(T, device=ids.device).unsqueeze(0)
        x = self.drop(self.ln_in(self.tok(ids) + self.pos(pos)))
        bias = ((1.0 - mask.to(x.dtype)) * -10000.0)[:, None, None, :]
        for b in self.blocks:
            x = b(x, bias)
        return self.ln_out(x)

    def embed(self, ids, mask):
        h = self.forward(ids, mask)
        m = mask.to(h.dtype).unsqueeze(-1)
        e = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return F.normalize(e, dim=-1)


def init_from_signals(model, onnx_path):
    """Copies the signals-0.3.1 encoder (token/position embeddings, blocks, final LayerNorm) from its fp32 ONNX graph.
    Named initializers map 1:1; the MatMul weights are unnamed ([in, out], i.e. transposed) and come in graph order
    qkv, o, ff1, ff2 per block."""
    import onnx
    from onnx import numpy_helper

    g = onnx.load(onnx_path).graph
    named = {i.name[2:]: numpy_helper.to_array(i) for i in g.initializer if i.name.startswith("m.")}
    mats = [numpy_helper.to_array(i) for i in g.initializer if i.name.startswith("onnx::MatMul_")]
    sd = model.state_dict()
    n = 0
    for k in sd:
        if k in named:
            assert tuple(sd[k].shape) == named[k].shape, (k, sd[k].shape, named[k].shape)
            sd[k] = torch.from_numpy(named[k].copy())
            n += 1
    for li in range(model.cfg["layers"]):
        for j, name in enumerate(["qkv", "o", "ff1", "ff2"]):
            w = mats[4 * li + j].T.copy()
            key = f"blocks.{li}.{name}.weight"
            assert tuple(sd[key].shape) == w.shape, (key, sd[key].shape, w.shape)
            sd[key] = torch.from_numpy(w)
            n += 1
    model.load_state_dict(sd)
    return n, len(sd)


# --------------------------------------------------------------------------------------------
# data: every text tokenised once through transformers.js
# --------------------------------------------------------------------------------------------
def topical_pairs(data):
    """(message, wiki lead text, wiki key) for Topical-Chat turns grounded on exactly one wiki section (FS1-3) of the
    speaker's reading set; the lead is the shortened or summarised version that agent was shown."""
    root = os.path.join(data, "topical_chat")
    wiki = json.load(open(os.path.join(root, "wiki", "wiki.json"), encoding="utf-8"))
    by_id = {kind: {v: k for k, v in wiki[kind].items()} for kind in wiki}
    out = []
    for f in ("valid_freq", "valid_rare", "test_freq"):  # test_rare is kept out (the signals eval uses it)
        conv = json.load(open(os.path.join(root, "conversations", f + ".json"), encoding="utf-8"))
        rs = json.load(open(os.path.join(root, "reading_sets", "pre-build", f + ".json"), encoding="utf-8"))
        for cid, c in conv.items():
            for turn in c["content"]:
                ks = [k for k in turn["knowledge_source"] if k.startswith("FS")]
                if len(ks) != 1 or len(turn["message"].split()) < 5:
                    continue
                sec = rs.get(cid, {}).get(turn["agent"], {}).get(ks[0], {})
                for kind in ("shortened_wiki_lead_section", "summarized_wiki_lead_section"):
                    if kind in sec and sec[kind] in by_id.get(kind, {}):
                        out.append((turn["message"].strip(), by_id[kind][sec[kind]].strip(), f"{kind}:{sec[kind]}"))
                        break
    return out


def qa_pairs(data, split="train", limit=None):
    """(question, answer) from self_dialogue (BSD-3): a line of 4+ words ending in "?" and the next line, 5-30 words,
    not itself a question. Teaches question -> statement matching (a member's question vs a library note)."""
    out = []
    for lines in C.load_self_dialogue(data, split):
        for q, r in zip(lines, lines[1:]):
            q, r = C.norm_ws(q), C.norm_ws(r)
            if q.endswith("?") and len(q.split()) >= 4 and not r.endswith("?") and 5 <= len(r.split()) <= 30:
                out.append((q, r))
    rng = random.Random(1234)
    rng.shuffle(out)
    return out[:limit] if limit else out


def prepare(a):
    d = os.path.join(WORK, "embed_data")
    os.makedirs(d, exist_ok=True)
    clinc = C.load_clinc(a.data)
    texts = []
    for key in ("train", "val", "oos_train", "oos_val"):
        for t, _ in clinc[key]:
            texts += [t, t + "?"]
    by = {}
    for t, i in clinc["train"]:
        by.setdefault(i, []).append(t)
    texts += [item_text(i, ts[:ITEM_EXAMPLES]) for i, ts in by.items()]
    tp = topical_pairs(a.data)
    for m, lead, _ in tp:
        texts += [m, lead]
    qa = qa_pairs(a.data, "train", 60000)
    qa_val = qa_pairs(a.data, "validation", 2000)
    for q, r in qa + qa_val:
        texts += [q, r]
    texts = sorted(set(texts))
    tf = os.path.join(d, "texts.json")
    with open(tf, "w", encoding="utf-8") as f:
        json.dump(texts, f, ensure_ascii=False)
    out = os.path.join(d, "ids.jsonl")
    subprocess.run([NODE, os.path.join(HERE, "embed_node.mjs"), "tokenize", SIGNALS, tf, out, "--max-length",
                    str(a.max_len)], check=True, cwd=REPO)
    with open(os.path.join(d, "topical_pairs.json"), "w", encoding="utf-8") as f:
        json.dump(tp, f, ensure_ascii=False)
    with open(os.path.join(d, "qa_pairs.json"), "w", encoding="utf-8") as f:
        json.dump({"train": qa, "validation": qa_val}, f, ensure_ascii=False)
    print(f"prepared {len(texts)} texts, {len(tp)} topical pairs -> {d}", flush=True)


def load_ids():
    d = os.path.join(WORK, "embed_data")
    if not os.path.exists(os.path.join(d, "ids.jsonl")):
        raise SystemExit("run `embed.py prepare` first")
    texts = json.load(open(os.path.join(d, "texts.json"), encoding="utf-8"))
    with open(os.path.join(d, "ids.jsonl"), encoding="utf-8") as f:
        ids = [json.loads(l) for l in f]
    assert len(ids) == len(texts)
    tp = json.load(open(os.path.join(d, "topical_pairs.json"), encoding="utf-8"))
    return dict(zip(texts, ids)), tp


def domains_of(data):
    return json.load(open(os.path.join(data, "clinc150", "domains.json"), encoding="utf-8"))


def batch_tensors(seqs, max_len):
    seqs = [s[:max_len - 1] + [EOS] if len(s) > max_len else s for s in seqs]
    T = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), T, dtype=torch.long)
    mask = torch.zeros(len(seqs), T, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return ids, mask


@torch.no_grad()
def encode_texts(model, tok_ids, texts, max_len=64, batch=256):
    model.eval()
    seqs = [tok_ids[t] for t in texts]
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    out = np.zeros((len(seqs), model.cfg["d"]), dtype=np.float32)
    for s in range(0, len(order), batch):
        idx = order[s:s + batch]
        ids, mask = batch_tensors([seqs[i] for i in idx], max_len)
        out[idx] = model.embed(ids, mask).numpy()
    return out


# --------------------------------------------------------------------------------------------
# evaluation (bench/library-eval.ts without BM25)
# --------------------------------------------------------------------------------------------
def eval_sets(data, intents=None):
    """items: intent -> its first 16 train requests; calibration: train [16,21) + oos_train; validation: val + oos_val.
    `intents` restricts the library (and the in-scope requests) to those intents; OOS requests are always all of them."""
    clinc = C.load_clinc(data)
    by = {}
    for t, i in clinc["train"]:
        by.setdefault(i, []).append(t)
    names = [i for i in by if intents is None or i in intents]
    items = {i: by[i][:ITEM_EXAMPLES] for i in names}
    calib = [(t, i) for i in names for t in by[i][CALIB[0]:CALIB[1]]]
    val = [(t, i) for t, i in clinc["val"] if i in items]
    return dict(names=names, items=items, calib=calib, calib_oos=[t for t, _ in clinc["oos_train"]],
                val=val, val_oos=[t for t, _ in clinc["oos_val"]])


def eval_texts(S):
    """Every text the eval embeds. Item passages as the runtime embeds them (passagesOf in worker/library/index.ts):
    the whole item "title. r1? r2? ...?" and each request "r?"; the request embeddings for the mean score are the
    passages too."""
    texts = []
    for i in S["names"]:
        texts.append(item_text(i, S["items"][i]))
        texts += [r + "?" for r in S["items"][i]]
    texts += [t for t, _ in S["calib"]] + S["calib_oos"] + [t for t, _ in S["val"]] + S["val_oos"]
    return texts


def item_text(intent, reqs):
    return f"{intent.replace('_', ' ')}. " + "? ".join(reqs) + "?"


def scores_from(E, S):
    """E: text -> normalised vector. Returns {mean, max, mix}: (calib [Nc,I], calib_oos, val, val_oos) score matrices."""
    names = S["names"]
    P = np.stack([np.stack([E[r + "?"] for r in S["items"][i]]) for i in names])  # I x 16 x D
    whole = np.stack([E[item_text(i, S["items"][i])] for i in names])
    mean = P.mean(1)
    mean /= np.linalg.norm(mean, axis=1, keepdims=True)
    I, K, Dm = P.shape

    def mat(texts):
        Q = np.stack([E[t] for t in texts])
        s_mean = Q @ mean.T
        s_max = np.maximum((Q @ P.reshape(I * K, Dm).T).reshape(len(texts), I, K).max(-1), Q @ whole.T)
        return {"mean": s_mean, "max": s_max, "mix": 0.5 * s_mean + 0.5 * s_max}

    sets = [[t for t, _ in S["calib"]], S["calib_oos"], [t for t, _ in S["val"]], S["val_oos"]]
    mats = [mat(x) for x in sets]
    return {k: tuple(m[k] for m in mats) for k in ("mean", "max", "mix")}


def rates(s_in, gold, s_oos, thr):
    best = s_in.argmax(1)
    top = s_in[np.arange(len(gold)), best]
    top1 = float((best == gold).mean())
    right = float(((best == gold) & (top >= thr)).mean())
    unk = float((s_oos.max(1) < thr).mean())
    return right, unk, top1


def calibrate_and_eval(mats, S):
    idx = {n: k for k, n in enumerate(S["names"])}
    g_cal = np.array([idx[i] for _, i in S["calib"]])
    g_val = np.array([idx[i] for _, i in S["val"]])
    out = {}
    for kind, (c, co, v, vo) in mats.items():
        best = (-1.0, 0.0)
        for thr in np.arange(0.0, 1.0001, 0.005):
            r, u, _ = rates(c, g_cal, co, thr)
            sc = min(r / 0.85, u / 0.8)
            if sc > best[0]:
                best = (sc, float(round(thr, 3)))
        thr = best[1]
        cr, cu, ct = rates(c, g_cal, co, thr)
        vr, vu, vt = rates(v, g_val, vo, thr)
        out[kind] = dict(threshold=thr, calib_right=cr, calib_unknown=cu, val_right=vr, val_unknown=vu, val_top1=vt)
    return out


def run_eval(E, S):
    return calibrate_and_eval(scores_from(E, S), S)


def fmt(res):
    return " | ".join(f"{k}: thr {r['threshold']:.3f} right {100 * r['val_right']:.1f} unknown {100 * r['val_unknown']:.1f} "
                      f"(top1 {100 * r['val_top1']:.1f})" for k, r in res.items())


def eval_suite(a, embed_fn):
    """Full library (150 intents) and, with --holdout-domains (or a run trained with them), the held-out domains'
    intents only. embed_fn(list of texts) -> [N, D] normalised."""
    doms = domains_of(a.data)
    suites = {"full": eval_sets(a.data)}
    held = a.holdout_domains
    if held:
        suites["heldout:" + ",".join(held)] = eval_sets(a.data, {i for d in held for i in doms[d]})
    texts = sorted({t for S in suites.values() for t in eval_texts(S)})
    V = embed_fn(texts)
    E = dict(zip(texts, V))
    return {name: run_eval(E, S) for name, S in suites.items()}


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------
def info_nce(za, zb, temp):
    logits = za @ zb.T / temp
    y = torch.arange(len(za))
    return 0.5 * (F.cross_entropy(logits, y) + F.cross_entropy(logits.T, y))


def train(a):
    torch.set_num_threads(a.threads)
    C.seed_everything(a.seed)
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    log = open(os.path.join(a.out, "train.log"), "a", encoding="utf-8")

    def say(msg):
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    tok_ids, tp = load_ids()
    clinc = C.load_clinc(a.data)
    doms = domains_of(a.data)
    held = {i for d in (a.holdout_domains or []) for i in doms[d]}
    by = {}
    for t, i in clinc["train"]:
        by.setdefault(i, []).append(t)
    # every train request except the calibration slice [16, 21); intents of held-out domains not at all
    groups = {i: ts[:CALIB[0]] + ts[CALIB[1]:] for i, ts in by.items() if i not in held}
    intents = sorted(groups)
    tgroups = {}
    for m, lead, key in tp:
        tgroups.setdefault(key, []).append((m, lead))
    tkeys = sorted(tgroups)
    qa = []
    if a.qa_frac > 0:
        qa = json.load(open(os.path.join(WORK, "embed_data", "qa_pairs.json"), encoding="utf-8"))["train"]
    say(f"train: {len(intents)} intents ({sum(len(v) for v in groups.values())} requests), held-out domains "
        f"{a.holdout_domains or '-'} ({len(held)} intents), topical pairs {len(tp)} over {len(tkeys)} leads, "
        f"general_frac {a.general_frac}")

    model = Embed()
    if a.init == "signals":
        n, tot = init_from_signals(model, os.path.join(SIGNALS, "onnx", "model.onnx"))
        say(f"initialised {n}/{tot} tensors from signals-0.3.1")
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    S_cal = eval_sets(a.data, set(intents))  # selection on the calibration slice of trained intents (train data only)

    def select_score():
        texts = sorted(set(eval_texts(S_cal)) - {t for t, _ in S_cal["val"]} - set(S_cal["val_oos"]))
        E = dict(zip(texts, encode_texts(model, tok_ids, texts)))
        mats = scores_from_calib_only(E, S_cal)
        return mats

    budget = a.minutes * 60.0
    steps = a.steps
    t0 = time.time()
    step = 0
    best = -1.0
    last_eval = t0
    ema = None
    prog = C.Progress(steps, "embed", every=30)
    while True:
        frac = max(step / steps, (time.time() - t0) / budget if budget > 0 else 0.0)
        if frac >= 1.0:
            break
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * (0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        roll = rng.random()
        if roll < a.qa_frac:
            pairs = rng.sample(qa, a.batch)
            A = [tok_ids[q] for q, _ in pairs]
            B = [tok_ids[r] for _, r in pairs]
            L = a.max_len
        elif roll < a.qa_frac + a.general_frac:
            keys = rng.sample(tkeys, min(a.batch, len(tkeys)))
            pairs = [rng.choice(tgroups[k]) for k in keys]
            A = [tok_ids[m] for m, _ in pairs]
            B = [tok_ids[l] for _, l in pairs]
            L = a.max_len
        else:
            chosen = rng.sample(intents, min(a.batch, len(intents)))
            A, B = [], []
            for i in chosen:
                x, y = rng.sample(groups[i], 2)
                A.append(tok_ids[x + "?" if rng.random() < 0.5 else x])
                B.append(tok_ids[y + "?" if rng.random() < 0.5 else y])
            L = a.max_len_clinc
        ia, ma = batch_tensors(A, L)
        ib, mb = batch_tensors(B, L)
        loss = info_nce(model.embed(ia, ma), model.embed(ib, mb), a.temp)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        prog(step, f"loss {ema:.3f} lr {lr:.2e}", frac=frac)
        if time.time() - last_eval > a.eval_every * 60 or step == 1:
            last_eval = time.time()
            r = select_score()
            sc = min(r["right"] / 0.85, r["unknown"] / 0.8)
            say(f"step {step} loss {ema:.3f} lr {lr:.2e} | calib slice (train [16,21) + oos_train, {len(intents)} "
                f"intents, max score): right {100 * r['right']:.1f} unknown {100 * r['unknown']:.1f} thr {r['thr']:.3f} "
                f"score {sc:.3f}")
            if sc > best:
                best = sc
                torch.save({"model": model.state_dict(), "cfg": model.cfg, "step": step, "args": vars(a)},
                           os.path.join(a.out, "best.pt"))
    r = select_score()
    sc = min(r["right"] / 0.85, r["unknown"] / 0.8)
    say(f"final step {step} loss {ema:.3f} | calib right {100 * r['right']:.1f} unknown {100 * r['unknown']:.1f} "
        f"score {sc:.3f} (best so far {best:.3f}); {time.time() - t0:.0f} s")
    torch.save({"model": model.state_dict(), "cfg": model.cfg, "step": step, "args": vars(a)},
               os.path.join(a.out, "last.pt"))
    if sc >= best:
        shutil.copy(os.path.join(a.out, "last.pt"), os.path.join(a.out, "best.pt"))
    ck = torch.load(os.path.join(a.out, "best.pt"))
    say(f"kept checkpoint of step {ck['step']}")
    with open(os.path.join(a.out, "run.json"), "w") as f:
        json.dump({"steps": step, "kept_step": ck["step"], "seconds": round(time.time() - t0), "args": vars(a)}, f,
                  indent=2)


def scores_from_calib_only(E, S):
    """Max-score calibration figures on the calibration slice only (checkpoint selection; no validation text)."""
    names = S["names"]
    P = np.stack([np.stack([E[r + "?"] for r in S["items"][i]]) for i in names])
    whole = np.stack([E[item_text(i, S["items"][i])] for i in names])
    I, K, Dm = P.shape

    def mat(texts):
        Q = np.stack([E[t] for t in texts])
        return np.maximum((Q @ P.reshape(I * K, Dm).T).reshape(len(texts), I, K).max(-1), Q @ whole.T)

    c, co = mat([t for t, _ in S["calib"]]), mat(S["calib_oos"])
    idx = {n: k for k, n in enumerate(names)}
    g = np.array([idx[i] for _, i in S["calib"]])
    best = (-1, 0, 0, 0)
    for thr in np.arange(0.0, 1.0001, 0.005):
        r, u, _ = rates(c, g, co, thr)
        sc = min(r / 0.85, u / 0.8)
        if sc > best[0]:
            best = (sc, r, u, thr)
    return {"right": best[1], "unknown": best[2], "thr": best[3]}


def load_model(path):
    ck = torch.load(path)
    cfg = dict(ck["cfg"])
    m = Embed(**cfg)
    m.load_state_dict(ck["model"])
    m.eval()
    return m, ck


# --------------------------------------------------------------------------------------------
# eval / export
# --------------------------------------------------------------------------------------------
def node_embed(model_dir, dtype="fp32", output="last_hidden_state"):
    def fn(texts):
        d = os.path.join(WORK, "embed_data")
        os.makedirs(d, exist_ok=True)
        tf, of = os.path.join(d, "node_in.json"), os.path.join(d, "node_out.f32")
        with open(tf, "w", encoding="utf-8") as f:
            json.dump(texts, f, ensure_ascii=False)
        subprocess.run([NODE, os.path.join(HERE, "embed_node.mjs"), "embed", model_dir, tf, of, "--dtype", dtype,
                        "--output", output], check=True, cwd=REPO)
        return np.fromfile(of, dtype=np.float32).reshape(len(texts), -1)
    return fn


def qa_eval(a):
    """Question -> statement retrieval on self_dialogue *validation* (never trained on): each of 2,000 questions
    against the pool of their 2,000 answers; recall@1 / @5 and MRR, for each --bundles folder (q8, through Node) and,
    with --before, signals-0.3.1's embeddings."""
    pairs = qa_pairs(a.data, "validation", 2000)
    qs, rs = [q for q, _ in pairs], [r for _, r in pairs]
    runs = [(b, node_embed(b, "q8")) for b in (a.bundles or [a.bundle])]
    if a.before:
        runs.insert(0, ("signals-0.3.1 q8", node_embed(SIGNALS, "q8", "embeddings")))
    for name, fn in runs:
        E = fn(qs + rs)
        Q, R = E[: len(qs)], E[len(qs):]
        Q = Q / np.linalg.norm(Q, axis=1, keepdims=True)
        R = R / np.linalg.norm(R, axis=1, keepdims=True)
        S = Q @ R.T
        rank = (S > S[np.arange(len(qs)), np.arange(len(qs))][:, None]).sum(axis=1)
        print(f"[qa self_dialogue val, {len(qs)} questions, {name}] recall@1 {100 * (rank == 0).mean():.1f} "
              f"recall@5 {100 * (rank < 5).mean():.1f} MRR {(1 / (rank + 1)).mean():.3f}", flush=True)


def evaluate(a):
    torch.set_num_threads(a.threads)
    results = {}
    if a.before:
        res = eval_suite(a, node_embed(SIGNALS, "q8", "embeddings"))
        for k, r in res.items():
            print(f"[signals-0.3.1 q8, Node] {k}: {fmt(r)}", flush=True)
        results["signals-0.3.1 q8"] = res
    if a.node:
        res = eval_suite(a, node_embed(a.bundle, a.node))
        for k, r in res.items():
            print(f"[{a.bundle} {a.node}, Node] {k}: {fmt(r)}", flush=True)
        results[f"node {a.node}"] = res
    if not a.before and not a.node:
        model, ck = load_model(os.path.join(a.out, "best.pt"))
        if not a.holdout_domains and ck["args"].get("holdout_domains"):
            a.holdout_domains = ck["args"]["holdout_domains"]
        tok_ids, _ = load_ids()
        res = eval_suite(a, lambda texts: encode_texts(model, tok_ids, texts))
        for k, r in res.items():
            print(f"[{a.out} step {ck['step']}, PyTorch fp32] {k}: {fmt(r)}", flush=True)
        results["pytorch fp32"] = res
    tag = "before" if a.before else (f"node_{a.node}" if a.node else "pytorch")
    C.atomic_write_json(os.path.join(a.out, f"eval_{tag}.json"), results)
    return results


class ExportWrapper(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask):
        return self.m(input_ids, attention_mask)


PARITY_TEXTS = [
    "how do i reset my password", "what time does the meetup start tomorrow?", "can someone explain the rules for posting links",
    "where is the faq about refunds", "i lost my card what should i do", "is there a code of conduct", "how do I join the voice channel",
    "what's the weather like in paris", "book me a table for two tonight", "tell me a joke", "who moderates this server?",
    "my account got blocked after too many attempts", "how much vacation do i have left", "set a timer for 10 minutes",
    "recommend a good sci-fi book", "this bot is great, thanks!", "why was my message deleted", "how can I become a moderator",
    "Is the event streamed on YouTube?", "translate good morning to french", "我怎么重置密码", "活动什么时候开始？",
    "请问退款政策是什么", "这个机器人真好用", "what is the capital of australia", "hello", "ok",
    "Can I use the API for commercial projects, or is it only for personal use?", "the quick brown fox jumps over the lazy dog",
    "where do i report a bug in the app", "when is the next release planned", "how do i change the language settings",
    "what are the server rules about spam", "please help me with my order status", "whats my credit limit",
    "is it going to rain this weekend", "how long does shipping take to canada", "can you remind me to call mom at 5pm",
    "who won the football game last night", "I need to talk to a human", "how do I unsubscribe from notifications",
    "what does the premium tier include", "give me the wifi password for the office", "are pets allowed at the venue",
    "how to cite this dataset", "I can't log in on my phone", "which channel is for job postings", "how do i mute someone",
    "A long message that goes on and on about many different things, the weather, the meetup, the rules of the server, "
    "the people who run it and the bots that help them, and keeps going past the model's sixty-four token limit so that "
    "truncation is exercised by the parity check as well.", "🎉🎉 party time!!",
]


def export(a):
    import onnx

    sys.path.insert(0, HERE)
    from quantize import quantize

    torch.set_num_threads(a.threads)
    model, ck = load_model(os.path.join(a.out, "best.pt"))
    dest = a.bundle
    os.makedirs(os.path.join(dest, "onnx"), exist_ok=True)
    ids, mask = batch_tensors([[5, 6, 7, EOS], [8, EOS]], 64)
    f32 = os.path.join(dest, "onnx", "model.onnx")
    torch.onnx.export(ExportWrapper(model), (ids, mask), f32, input_names=["input_ids", "attention_mask"],
                      output_names=["last_hidden_state"], opset_version=14, do_constant_folding=True,
                      dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                    "last_hidden_state": {0: "batch", 1: "seq"}})
    onnx.checker.check_model(onnx.load(f32))
    quantize(f32, os.path.join(dest, "onnx", "model_quantized.onnx"))
    for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(os.path.join(SIGNALS, f), os.path.join(dest, f))
    run = {}
    rp = os.path.join(a.out, "run.json")
    if os.path.exists(rp):
        run = json.load(open(rp))
    targs = ck["args"]
    cfg = {
        "model_type": "bert",
        "architectures": ["StewardEmbedModel"],
        "vocab_size": model.cfg["vocab"], "hidden_size": model.cfg["d"], "num_hidden_layers": model.cfg["layers"],
        "num_attention_heads": model.cfg["heads"], "intermediate_size": model.cfg["ff"],
        "max_position_embeddings": model.cfg["max_len"], "pad_token_id": 0, "eos_token_id": 1,
        "transformers.js_config": {"dtype": "fp32"},
        "steward": {
            "task": "embed", "version": VERSION if not targs.get("qa_frac") else VERSION_QA, "pooling": "mean", "normalize": True, "max_length": 64,
            "embedding_dim": model.cfg["d"],
            "truncation": "cut to max_length keeping the final </s> (as the signals runtime does)",
            "trained_on": {
                "clinc150": "train split (CC BY 3.0), "
                            + (f"intents outside the domains {targs['holdout_domains']}" if targs.get("holdout_domains")
                               else "all 150 intents")
                            + ", same-intent request pairs; train requests [16,21) of each intent and oos_train never "
                              "trained on (threshold calibration); val / oos_val never trained on",
                "topical_chat": "message <-> grounding Wikipedia lead pairs from valid_freq, valid_rare, test_freq "
                                "(CDLA-Sharing-1.0 conversations, CC BY-SA 3.0 Wikipedia text)"
                                if targs.get("general_frac", 0) > 0 else "not used",
                "self_dialogue": f"question -> next-line answer pairs from the train split (BSD-3-Clause), "
                                 f"{targs['qa_frac']:.0%} of batches; validation kept for `embed.py qa`"
                                 if targs.get("qa_frac") else "not used",
                "init": "signals-0.3.1 encoder (en + zh)" if targs.get("init") == "signals" else "from scratch",
                "steps": ck["step"], "seconds": run.get("seconds"),
            },
            "languages": ["en"],
            "languages_note": "fine-tuned on English only; Chinese text is tokenised (signals en+zh BPE) and the "
                              "initial encoder saw Chinese, but no Chinese retrieval pair was trained or evaluated",
            "noncommercial_data": targs.get("init") == "signals",
            "licence_note": "initialised from signals-0.3.1, whose training data includes ChnSentiCorp (non-commercial "
                            "research/teaching only) and HatEval (academic use): treat as research / non-commercial "
                            "use only; `embed.py all --init scratch` avoids that inheritance"
                            if targs.get("init") == "signals" else "no non-commercial data",
            "library_threshold_note": "the runtime's threshold is relative to each library (worker/library: quantile "
                                      "0.925 of 200 chat lines' scores, floor 0.3), calibrated with npm run eval:library",
        },
    }
    C.atomic_write_json(os.path.join(dest, "config.json"), cfg)
    # parity reference: PyTorch embeddings of the parity texts, tokenised by transformers.js
    tf = os.path.join(WORK, "embed_data", "parity_texts.json")
    of = os.path.join(WORK, "embed_data", "parity_ids.jsonl")
    with open(tf, "w", encoding="utf-8") as f:
        json.dump(PARITY_TEXTS, f, ensure_ascii=False)
    subprocess.run([NODE, os.path.join(HERE, "embed_node.mjs"), "tokenize", dest, tf, of, "--max-length", "64"],
                   check=True, cwd=REPO)
    seqs = [json.loads(l) for l in open(of, encoding="utf-8")]
    E = encode_texts(model, {t: s for t, s in zip(PARITY_TEXTS, seqs)}, PARITY_TEXTS)
    C.atomic_write_json(os.path.join(dest, "parity.json"), {
        "note": "PyTorch fp32 embeddings (mean over mask of last_hidden_state, L2-normalised); checked by "
                "models/training/parity_embed.mjs",
        "cases": [{"text": t, "input_ids": s, "embedding": [round(float(x), 7) for x in e]}
                  for t, s, e in zip(PARITY_TEXTS, seqs, E)]})
    sizes = {os.path.relpath(os.path.join(r, f), dest): os.path.getsize(os.path.join(r, f))
             for r, _, fs in os.walk(dest) for f in fs}
    print(f"exported step {ck['step']} -> {dest}: {sum(sizes.values()) / 1e6:.2f} MB {sizes}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cmd", choices=["prepare", "train", "eval", "qa", "export", "all"])
    p.add_argument("--bundles", nargs="*", default=None, help="qa: model folders to compare (default --bundle)")
    p.add_argument("--data", default=os.path.join(REPO, "..", "shared", "datasets"))
    p.add_argument("--out", default=None, help="run dir (default work/embed, or work/embed_holdout with --holdout-domains; "
                   "pass --out work/embed to evaluate the shipped run on the held-out domains' subset too)")
    p.add_argument("--bundle", default=os.path.join(REPO, "models", "bundled", "embed"))
    p.add_argument("--holdout-domains", default=None, help="comma list of clinc150 domains left out of every pair")
    p.add_argument("--minutes", type=float, default=25.0, help="wall-clock budget; cosine LR follows max(step/steps, time/budget)")
    p.add_argument("--steps", type=int, default=100000)
    p.add_argument("--batch", type=int, default=96, help="pairs per batch (<= intents: one pair per intent)")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--temp", type=float, default=0.05)
    p.add_argument("--general-frac", type=float, default=0.2, help="share of batches of Topical-Chat pairs")
    p.add_argument("--qa-frac", type=float, default=0.25, help="share of batches of self_dialogue question -> answer pairs")
    p.add_argument("--init", choices=["signals", "scratch"], default="signals")
    p.add_argument("--max-len", type=int, default=64)
    p.add_argument("--max-len-clinc", type=int, default=32)
    p.add_argument("--eval-every", type=float, default=3.0, help="minutes between checkpoint-selection evals")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--node", choices=["fp32", "q8"], default=None, help="eval: embed through Node from --bundle")
    p.add_argument("--before", action="store_true", help="eval: signals-0.3.1's embeddings (Node, q8)")
    p.add_argument("--threshold", type=float, default=None, help="export: library threshold written to config.json")
    a = p.parse_args()
    a.holdout_domains = [d for d in a.holdout_domains.split(",") if d] if a.holdout_domains else None
    if a.out is None:
        a.out = os.path.join(WORK, "embed_holdout" if a.holdout_domains else "embed")
    os.makedirs(a.out, exist_ok=True)
    if a.cmd in ("prepare", "all"):
        prepare(a)
    if a.cmd in ("train", "all"):
        train(a)
    if a.cmd in ("eval", "all"):
        res = evaluate(a)
        if a.threshold is None and "pytorch fp32" in res:
            a.threshold = res["pytorch fp32"]["full"]["max"]["threshold"]
    if a.cmd == "qa":
        qa_eval(a)
    if a.cmd in ("export", "all"):
        if a.threshold is None:
            ep = os.path.join(a.out, "eval_pytorch.json")
            if os.path.exists(ep):
                a.threshold = json.load(open(ep))["pytorch fp32"]["full"]["max"]["threshold"]
        export(a)


if __name__ == "__main__":
    main()
