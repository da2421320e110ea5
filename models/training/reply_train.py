"""Reply model: data, examples and the training loop (the CLI is reply.py; export and eval import this)."""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common as C  # noqa: E402

REPO = C.REPO
DEFAULT_OUT = os.path.join(C.WORK, "reply")
DEFAULT_DEST = os.path.join(REPO, "models", "bundled", "reply")
SEP_ID, EOS_ID, PAD_ID = 3, 1, 0
SEP_TEXT = "<sep>"
MAX_CONTEXT_TURNS = 3
MAX_INPUT_LEN = 64
MAX_TARGET_LEN = 40
# 0.1.1: the decoder also outputs cross_attentions.{i} (reply_attention.py). A model that learns to answer from
# passages (train --grounded) should be exported as 0.2.0; none has yet (worker/library/README.md).
VERSION = "0.1.1"
# The answer model (train --grounded --grounded-only, exported to models/bundled/answer): library answers only.
ANSWER_VERSION = "answer-0.1.0"


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# --------------------------------------------------------------------------------------------
# tokenizer
# --------------------------------------------------------------------------------------------

def tokenizer_dir(args):
    if args.tokenizer:
        return args.tokenizer
    d = C.TOKENIZER_DIR
    if os.path.exists(os.path.join(d, "READY")):
        return d
    if args.smoke:  # CI smoke without the shared tokenizer: build a tiny one next to the smoke outputs
        d = os.path.join(args.out, "tokenizer")
        if not os.path.exists(os.path.join(d, "READY")):
            log("shared tokenizer not READY; training a tiny one for the smoke run in", d)
            subprocess.run([sys.executable, os.path.join(HERE, "tokenizer.py"), "--tiny", "--data", args.data,
                            "--out", d], check=True)
        return d
    raise SystemExit(f"tokenizer not ready: {d}/READY missing (run `npm run train -- tokenizer` first)")


def load_tokenizer(tok_dir):
    from tokenizer import SpTokenizer

    tok = SpTokenizer(os.path.join(tok_dir, "tokenizer.model"))
    tok.model_file = os.path.join(tok_dir, "tokenizer.model")
    return tok


def clean_turn(t: str) -> str:
    """Runtime contract: each turn is whitespace-collapsed and trimmed (newlines become spaces)."""
    return " ".join(t.split())


def join_context(turns):
    return SEP_TEXT.join(clean_turn(t) for t in turns[-MAX_CONTEXT_TURNS:])


def build_input_ids(line_ids, max_len=MAX_INPUT_LEN):
    """line_ids: list of token-id lists (oldest first, no eos). Drop the oldest turns until the joined input
    (turns + <sep> between + </s>) fits max_len; a single over-long turn keeps its last tokens."""
    line_ids = list(line_ids[-MAX_CONTEXT_TURNS:])
    while len(line_ids) > 1 and sum(len(x) for x in line_ids) + len(line_ids) > max_len:
        line_ids.pop(0)
    out = []
    for i, x in enumerate(line_ids):
        if i:
            out.append(SEP_ID)
        out += x
    out = out[-(max_len - 1):]
    return out + [EOS_ID]


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------

def encode_convs(tok, convs):
    return [[tok.encode(clean_turn(l), add_eos=False) for l in c] for c in convs]


def load_split(args, tok, split, max_convs=None):
    cache = os.path.join(args.out, f"data_{split}_{max_convs or 'all'}.json")
    tok_sig = os.path.getsize(tok.model_file) if hasattr(tok, "model_file") else None
    if os.path.exists(cache):
        with open(cache) as f:
            d = json.load(f)
        if d.get("vocab") == tok.vocab_size and d.get("sig") == tok_sig:
            return d["convs"]
    convs = C.load_self_dialogue(args.data, split, max_convs=max_convs)
    enc = encode_convs(tok, convs)
    os.makedirs(args.out, exist_ok=True)
    C.atomic_write_json(cache, {"vocab": tok.vocab_size, "sig": tok_sig, "convs": enc})
    return enc


def make_examples(convs, rng, fixed_k=None):
    ex = []
    for c in convs:
        for t in range(1, len(c)):
            k = fixed_k if fixed_k else rng.randint(1, MAX_CONTEXT_TURNS)
            k = min(k, t)
            src = build_input_ids(c[t - k:t])
            tgt = (c[t] + [EOS_ID])[:MAX_TARGET_LEN]
            if len(c[t]) == 0:
                continue
            ex.append((src, tgt))
    return ex


def batches(examples, bs, rng, shuffle=True):
    idx = list(range(len(examples)))
    if shuffle:
        rng.shuffle(idx)
    chunk = bs * 50
    out = []
    for i in range(0, len(idx), chunk):
        part = sorted(idx[i:i + chunk], key=lambda j: (len(examples[j][0]), len(examples[j][1])))
        out += [part[k:k + bs] for k in range(0, len(part), bs)]
    if shuffle:
        rng.shuffle(out)
    return out


def collate(examples, ids):
    import torch

    src = [examples[i][0] for i in ids]
    tgt = [examples[i][1] for i in ids]
    S, T = max(map(len, src)), max(map(len, tgt))
    x = torch.full((len(ids), S), PAD_ID, dtype=torch.long)
    am = torch.zeros((len(ids), S), dtype=torch.long)
    dec = torch.full((len(ids), T), PAD_ID, dtype=torch.long)
    lab = torch.full((len(ids), T), -100, dtype=torch.long)
    for r, (s, t) in enumerate(zip(src, tgt)):
        x[r, :len(s)] = torch.tensor(s)
        am[r, :len(s)] = 1
        dec[r, 1:len(t)] = torch.tensor(t[:-1])  # decoder_start (=pad 0) then the target shifted right
        lab[r, :len(t)] = torch.tensor(t)
    return x, am, dec, lab


# --------------------------------------------------------------------------------------------
# model config
# --------------------------------------------------------------------------------------------

def model_config(args, vocab):
    from reply_model import ReplyConfig

    if args.smoke:
        return ReplyConfig(vocab_size=vocab, d_model=64, d_kv=16, d_ff=128, num_heads=4, num_layers=2,
                           num_decoder_layers=2)
    return ReplyConfig(vocab_size=vocab, d_model=args.d_model, d_kv=args.d_model // args.heads, d_ff=args.d_ff,
                       num_heads=args.heads, num_layers=args.layers, num_decoder_layers=args.layers,
                       prev_token=getattr(args, "prev_token", False),
                       match_feature=getattr(args, "match_feature", False))


# --------------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------------

def lr_at(step, frac, peak, warmup):
    """Linear warmup over `warmup` steps, then cosine from peak to 10% of peak over the run fraction `frac`
    (elapsed training time / time budget, or step / max_steps)."""
    w = min(1.0, (step + 1) / warmup)
    frac = min(1.0, max(0.0, frac))
    return peak * w * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def evaluate_loss(model, examples, bs=64, max_batches=None):
    import torch
    import torch.nn.functional as F

    model.eval()
    tot, n = 0.0, 0
    bl = batches(examples, bs, random.Random(0), shuffle=False)
    if max_batches:
        bl = bl[:max_batches]
    with torch.no_grad():
        for ids in bl:
            x, am, dec, lab = collate(examples, ids)
            lg = model(x, am, dec)
            loss = F.cross_entropy(lg.reshape(-1, lg.shape[-1]), lab.reshape(-1), ignore_index=-100, reduction="sum")
            tot += float(loss)
            n += int((lab != -100).sum())
    model.train()
    return tot / max(n, 1), n


def train(args):
    import torch
    import torch.nn.functional as F
    from reply_model import ReplyConfig, ReplyModel, count_params

    torch.set_num_threads(args.threads)
    C.seed_everything(args.seed)
    os.makedirs(args.out, exist_ok=True)
    tdir = tokenizer_dir(args)
    tok = load_tokenizer(tdir)
    log(f"tokenizer {tdir} vocab {tok.vocab_size}")
    t0 = time.time()
    train_convs = load_split(args, tok, "train", max_convs=300 if args.smoke else None)
    val_convs = load_split(args, tok, "validation", max_convs=60 if args.smoke else None)
    val_ex = make_examples(val_convs, random.Random(1), fixed_k=MAX_CONTEXT_TURNS)
    log(f"data: {len(train_convs)} train conversations, {len(val_ex)} validation pairs ({time.time() - t0:.0f}s)")

    ckpt_path = os.path.join(args.out, "ckpt.pt")
    state = None
    init_version = None
    if args.resume and os.path.exists(ckpt_path):
        state = torch.load(ckpt_path)
        cfg = ReplyConfig(**state["cfg"])
        log(f"resuming from step {state['step']}")
    elif getattr(args, "init_state", None):  # reply.py --init-from: (cfg, state, version) from reply_warmstart
        cfg, init_state, init_version = args.init_state
        log(f"starting from the weights of {args.init_from} (dequantized int8)")
    else:
        cfg = model_config(args, tok.vocab_size)
    model = ReplyModel(cfg)
    if not state and getattr(args, "init_state", None):
        model.load_state_dict(init_state)
    log(f"model: {count_params(model) / 1e6:.2f}M params {cfg.to_dict()}")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "bias.emb" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "bias.emb" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-8)
    step, epoch, bidx, elapsed = 0, 0, 0, 0.0
    budget_s = args.minutes * 60
    max_steps = (args.max_steps or 30) if args.smoke else args.max_steps
    if state:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, epoch, bidx, elapsed = state["step"], state["epoch"], state["bidx"], state["elapsed"]
        budget_s, max_steps = state["budget_s"], state["max_steps"]
        if args.minutes_given:  # an explicit --minutes on --resume changes the remaining schedule
            budget_s = args.minutes * 60
        random.setstate(state["py_rng"])
        torch.set_rng_state(state["torch_rng"])
    warmup = 30 if args.smoke else args.warmup
    # The schedule runs on *training time*, not steps: on this shared 2-core machine the speed varies 3-5x with
    # the other jobs, so a step count fixed up front either overruns or wastes the budget. The elapsed training
    # time is checkpointed, so --resume continues the same schedule. (--max-steps / --smoke: step-based.)
    model.train()

    grounded = []
    if getattr(args, "grounded", False):
        import reply_grounded

        grounded = reply_grounded.build(args.data, tok, build_input_ids, clean_turn, EOS_ID, MAX_TARGET_LEN,
                                        drills_only=getattr(args, "grounded_only", False),
                                        chat_item_count=getattr(args, "grounded_items", 6000))
        log(f"grounded: {len(grounded)} passage-conditioned pairs (topical_chat + copy drills)")

    def epoch_batches(ep):
        rng = random.Random(args.seed * 1000 + ep)
        ex = make_examples(train_convs, rng)
        if grounded and getattr(args, "grounded_only", False):
            return grounded, batches(grounded, args.batch, rng)
        if grounded:  # half chat, half passage-conditioned, so neither skill crowds out the other
            ex = rng.sample(ex, min(len(ex), int(1.5 * len(grounded)))) + grounded
        return ex, batches(ex, args.batch, rng)

    ex, bl = epoch_batches(epoch)
    log(f"{len(ex)} training pairs/epoch, {len(bl)} batches of {args.batch}; budget "
        + (f"{max_steps} steps" if max_steps else f"{budget_s / 60:.0f} min of training time") + f", {elapsed / 60:.1f} min done")
    last_ck = last_eval = last_print = time.time()
    seg_t0, seg_elapsed0, seg_step0 = time.time(), elapsed, step
    run_t0 = time.time()
    losses = []

    def frac():
        return step / max_steps if max_steps else elapsed / budget_s

    while frac() < 1.0:
        if bidx >= len(bl):
            epoch, bidx = epoch + 1, 0
            ex, bl = epoch_batches(epoch)
            log(f"epoch {epoch}")
        x, am, dec, lab = collate(ex, bl[bidx])
        lr = lr_at(step, frac(), args.lr, warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        lg = model(x, am, dec)
        loss = F.cross_entropy(lg.reshape(-1, lg.shape[-1]), lab.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss))
        step += 1
        bidx += 1
        now = time.time()
        elapsed = seg_elapsed0 + (now - seg_t0)
        if now - last_print > (5 if args.smoke else 60):
            rate = (step - seg_step0) / max(1e-6, now - seg_t0)
            f = frac()
            eta = (1 - f) * (max_steps / max(rate, 1e-9) if max_steps else budget_s)
            log(f"[reply] step {step} ({100 * f:.1f}%) {rate:.2f} steps/s epoch {epoch + bidx / len(bl):.3f} "
                f"loss {sum(losses[-100:]) / len(losses[-100:]):.3f} lr {lr:.2e} ETA {eta / 60:.1f} min")
            last_print = now
        if not args.smoke and now - last_eval > args.eval_every * 60:
            vl, _ = evaluate_loss(model, val_ex, max_batches=20)
            log(f"step {step} val loss {vl:.3f} ppl {math.exp(vl):.1f} (first 20 validation batches)")
            # evaluation time does not count as training time
            seg_t0, seg_elapsed0, seg_step0, last_eval = time.time(), elapsed, step, time.time()
        if now - last_ck > args.ckpt_every * 60:
            save_ckpt(ckpt_path, model, opt, cfg, step, epoch, bidx, elapsed, budget_s, max_steps)
            seg_t0, seg_elapsed0, seg_step0, last_ck = time.time(), elapsed, step, time.time()
    save_ckpt(ckpt_path, model, opt, cfg, step, epoch, bidx, elapsed, budget_s, max_steps)
    vl, n = evaluate_loss(model, val_ex, max_batches=10 if args.smoke else 80)
    log(f"final step {step}: validation loss {vl:.4f} ppl {math.exp(vl):.2f} over {n} tokens (first 80 batches; full: reply.py eval)")
    meta = {"steps": step, "epochs_seen": epoch + bidx / max(1, len(bl)), "batch": args.batch,
            "train_conversations": len(train_convs), "val_loss": vl, "val_ppl": math.exp(vl),
            "tokenizer": tdir, "seconds": elapsed, "seed": args.seed, "lr": args.lr, "warmup": warmup,
            "budget_minutes": budget_s / 60, "grounded": bool(getattr(args, "grounded", False)),
            "grounded_only": bool(getattr(args, "grounded_only", False)),
            "init_from": getattr(args, "init_from", None), "init_from_version": init_version}
    torch.save({"cfg": cfg.to_dict(), "model": model.state_dict(), "meta": meta}, os.path.join(args.out, "model.pt"))
    C.atomic_write_json(os.path.join(args.out, "train_meta.json"), meta)
    log("wrote", os.path.join(args.out, "model.pt"))


def save_ckpt(path, model, opt, cfg, step, epoch, bidx, elapsed, budget_s, max_steps):
    import torch

    tmp = path + ".tmp"
    torch.save({"cfg": cfg.to_dict(), "model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                "epoch": epoch, "bidx": bidx, "elapsed": elapsed, "budget_s": budget_s, "max_steps": max_steps,
                "py_rng": random.getstate(), "torch_rng": torch.get_rng_state()}, tmp)
    os.replace(tmp, path)
    log(f"checkpoint step {step} ({elapsed / 60:.1f} min trained)")


# --------------------------------------------------------------------------------------------
# cli
# --------------------------------------------------------------------------------------------
