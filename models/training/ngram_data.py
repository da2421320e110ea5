"""Data and features of the separately trained n-gram channel (see ngram.py).

Features are fastText's: the token ids themselves (unigrams) plus hashed token bigrams and trigrams, all looked up in
one table and averaged. The hashes are exactly what the ONNX graph computes from `input_ids` (ngram_export.py), in
int64: bigram (p1 * P + id) mod B2, trigram ((p2 * P + p1) * P + id) mod B3, with P = 1000003 as in signals.py.
Chinese is one token per character with the signals tokenizer, so bigrams and trigrams are Chinese words.
"""
from __future__ import annotations

import unicodedata
import zlib

import numpy as np

import common as C
import signals_data as D

P = 1000003


def feature_ids(ids, vocab, b2, b3):
    """Rows of the shared table for one token-id sequence: unigrams [0, vocab), bigrams [vocab, vocab + b2), trigrams
    [vocab + b2, vocab + b2 + b3). Positions t-1 / t-2 before the start do not exist (the graph masks them)."""
    ids = np.asarray(ids, dtype=np.int64)
    out = [ids]
    if len(ids) > 1:
        out.append(vocab + np.remainder(ids[:-1] * P + ids[1:], b2))
    if len(ids) > 2:
        out.append(vocab + b2 + np.remainder((ids[:-2] * P + ids[1:-1]) * P + ids[2:], b3))
    return np.concatenate(out)


def featurize(tok, texts, max_len, vocab, b2, b3, subwords=None):
    """(flat feature ids, per-feature weights, offsets, lengths) for torch.nn.EmbeddingBag(mode="sum"); texts are
    cleaned as at run time. The weights make the bag a mean over the message's n-grams; with `subwords` (token id ->
    its character n-gram rows, see subword_rows) a token's vector is the mean of its own row and its character
    n-grams' rows, fastText's subword model, which folds into one row per token after training."""
    seqs = D.encode_all(tok, [C.clean_tweet(t) for t in texts], max_len)
    flat, wts, lens = [], [], []
    for s in seqs:
        f = feature_ids(s, vocab, b2, b3)
        n = float(max(len(f), 1))
        if subwords is None:
            flat.append(f)
            wts.append(np.full(len(f), 1.0 / n, np.float32))
        else:
            parts, ws = [f[len(s):]], [np.full(len(f) - len(s), 1.0 / n, np.float32)]
            for t in s:
                g = subwords[t]
                parts.append(np.concatenate([[t], g]).astype(np.int64))
                ws.append(np.full(1 + len(g), 1.0 / (n * (1 + len(g))), np.float32))
            flat.append(np.concatenate(parts))
            wts.append(np.concatenate(ws))
        lens.append(len(flat[-1]))
    offsets = np.cumsum([0] + lens[:-1]).astype(np.int64)
    return np.concatenate(flat), np.concatenate(wts), offsets, lens


def subword_rows(tok, base, buckets, nmin=3, nmax=5):
    """Token id -> rows (from `base`) of the hashed character n-grams of its piece ("▁", a word start, becomes
    fastText's "<"; a piece does not know whether the word ends with it, so there is no end mark). Special and byte
    tokens have none."""
    out = []
    for i in range(tok.vocab_size):
        piece = tok.sp.id_to_piece(i)
        if i < 5 or piece.startswith("<0x"):
            out.append(np.zeros(0, np.int64))
            continue
        w = piece.replace("\u2581", "<")
        grams = {w[k: k + n] for n in range(nmin, nmax + 1) for k in range(0, len(w) - n + 1)} - {w}
        out.append(np.array(sorted(base + zlib.crc32(g.encode("utf-8")) % buckets for g in grams), np.int64))
    return out


def _is_cjk(ch):
    return "CJK" in unicodedata.name(ch, "") or "\u3400" <= ch <= "\u9fff"


def script_tables(tok):
    """Per token id: (has a letter or CJK character, has a CJK character). The graph's share of Chinese among a
    message's letter tokens (0 for English, 1 for Chinese) picks between the English and the Chinese weights."""
    V = tok.vocab_size
    letter, cjk = np.zeros(V, np.float32), np.zeros(V, np.float32)
    for i in range(5, V):
        piece = tok.sp.id_to_piece(i)
        if piece.startswith("<0x"):
            continue
        letter[i] = float(any(ch.isalpha() for ch in piece))
        cjk[i] = float(any(_is_cjk(ch) for ch in piece))
    return letter, cjk


def build(data, seed=1234, weak_negatives=9000, weak_weight=0.5, noncommercial=True, log=print):
    """The signals training sets (signals_data.prepare, same seed, so the same rows and the same held-out slices as
    signals-0.3.1) split into what the channel trains on and the selection slices it never sees.

    sentiment rows (text, label, weight); moderation rows (text, labels[4], mask[4])."""
    d = D.prepare(data, seed=seed, weak_negatives=weak_negatives, weak_weight=weak_weight,
                  noncommercial=noncommercial, log=log)
    sel = {
        "sent_en": ([t for t, _, _ in d["sent_dev"]], [y for _, y, _ in d["sent_dev"]]),
        "sent_zh": ([t for t, _ in d["cs_sel"]], [y for _, y in d["cs_sel"]]),
        "olid": ([t for t, _, _ in d["olid_dev"]], [y for _, y, _ in d["olid_dev"]]),
        "hate": ([t for t, _, _ in d["hate_dev"]], [y[3] for _, y, _ in d["hate_dev"]]),
        "cold": ([t for t, _, _ in d["cold_cal"]], [y[0] for _, y, _ in d["cold_cal"]]),
    }
    return {"sent_train": d["sent_train"], "mod_train": d["olid_train"] + d["hate_train"], "sel": sel,
            "report": d["report"]}
