"""Data and features of the separately trained n-gram channel (see ngram.py).

Features are fastText's: the token ids themselves (unigrams) plus hashed token bigrams and trigrams, all looked up in
one table and averaged. The hashes are exactly what the ONNX graph computes from `input_ids` (ngram_export.py), in
int64: bigram (p1 * P + id) mod B2, trigram ((p2 * P + p1) * P + id) mod B3, with P = 1000003 as in signals.py.
Chinese is one token per character with the signals tokenizer, so bigrams and trigrams are Chinese words.
"""
from __future__ import annotations

import unicodedata

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


def featurize(tok, texts, max_len, vocab, b2, b3):
    """(flat feature ids, offsets) for torch.nn.EmbeddingBag; texts are cleaned as at run time."""
    seqs = D.encode_all(tok, [C.clean_tweet(t) for t in texts], max_len)
    feats = [feature_ids(s, vocab, b2, b3) for s in seqs]
    offsets = np.cumsum([0] + [len(f) for f in feats[:-1]]).astype(np.int64)
    return np.concatenate(feats), offsets, [len(f) for f in feats]


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
