"""The n-gram channel as an ONNX subgraph, merged into an existing signals graph (fp32 or int8) so that the runtime
needs no change: it reads `input_ids` / `attention_mask`, and its weighted logits are ADDED to `sentiment_logits` /
`moderation_logits`, its per-token shares to `moderation_attribution` (so attribution still sums to logit − bias).

Per message: share_t = (T[id_t] + T[bigram_t] + T[trigram_t]) / n (n = number of n-grams present; T is the channel's
table of per-n-gram logits, [rows, 3 + L]); the weights interpolate between English and Chinese by the share of CJK
tokens among the letter tokens: w = w_en + f · (w_zh − w_en). Sentiment gets Σ_t w·share_t + w·b_sent; moderation
Σ_t w·share_t + w_en·b_mod (a constant bias, so Σ attribution = logit − bias holds).
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ngram_data import P

PREFIX = "ngram_ch/"


def channel_numpy(ch, ids):
    """The graph's computation for one unpadded id sequence (numpy twin, used for selection and parity)."""
    from ngram_data import feature_ids

    ids = np.asarray(ids, dtype=np.int64)
    rows = feature_ids(ids, ch["vocab"], ch["b2"], ch["b3"])
    T = ch["table"]
    n = max(len(rows), 1)
    per_tok = T[ids].copy()
    if len(ids) > 1:
        per_tok[1:] += T[rows[len(ids): 2 * len(ids) - 1]]
    if len(ids) > 2:
        per_tok[2:] += T[rows[2 * len(ids) - 1:]]
    share = per_tok / n
    letter, cjk = ch["letter"][ids].sum(), ch["cjk"][ids].sum()
    f = cjk / max(letter, 1.0)
    w = ch["w_en"] + f * (ch["w_zh"] - ch["w_en"])
    sw = share * w
    K = 3
    sent = sw[:, :K].sum(0) + w[:K] * ch["b_sent"]
    attr = sw[:, K:]
    mod = attr.sum(0) + ch["w_en"][K:] * ch["b_mod"]
    return sent.astype(np.float32), mod.astype(np.float32), attr.astype(np.float32)


def channel_graph(ch, opset=14):
    """A standalone model: (input_ids, attention_mask) -> ngram_sent [B,3], ngram_mod [B,L], ngram_attr [B,T,L]."""
    p = PREFIX
    K, L = 3, len(ch["b_mod"])
    inits = {
        "table_q": ch["table_q"], "table_scale": ch["table_scale"], "letter": ch["letter"].astype(np.float32),
        "cjk": ch["cjk"].astype(np.float32), "w_en": ch["w_en"].astype(np.float32),
        "w_diff": (ch["w_zh"] - ch["w_en"]).astype(np.float32),
        "b_sent": ch["b_sent"].astype(np.float32), "b_mod_w": (ch["w_en"][K:] * ch["b_mod"]).astype(np.float32),
        "pads1": np.array([0, 1, 0, 0], np.int64), "pads2": np.array([0, 2, 0, 0], np.int64),
        "zero_i": np.array(0, np.int64), "zero_f": np.array(0.0, np.float32), "one_f": np.array(1.0, np.float32),
        "s0": np.array([0], np.int64), "e1": np.array([-1], np.int64), "e2": np.array([-2], np.int64),
        "ax1": np.array([1], np.int64), "axm1": np.array([-1], np.int64), "prime": np.array(P, np.int64),
        "b2": np.array(ch["b2"], np.int64), "b3": np.array(ch["b3"], np.int64),
        "off2": np.array(ch["vocab"], np.int64), "off3": np.array(ch["vocab"] + ch["b2"], np.int64),
        "shape4": np.array([0, 3, -1, K + L], np.int64),
        "k0": np.array([0], np.int64), "kK": np.array([K], np.int64), "kKL": np.array([K + L], np.int64),
    }
    nodes = []

    def node(op, ins, out, **kw):
        nodes.append(helper.make_node(op, [x if x in ("input_ids", "attention_mask") else p + x for x in ins],
                                      [p + out], name=p + out, **kw))
        return out

    def shift(x, k, zero):
        node("Pad", [x, f"pads{k}", zero], f"{x}_pad{k}", mode="constant")
        return node("Slice", [f"{x}_pad{k}", "s0", f"e{k}", "ax1"], f"{x}_prev{k}")

    node("Identity", ["input_ids"], "ids")
    node("Cast", ["attention_mask"], "m", to=TensorProto.FLOAT)
    shift("ids", 1, "zero_i"), shift("ids", 2, "zero_i"), shift("m", 1, "zero_f"), shift("m", 2, "zero_f")
    node("Mul", ["m", "m_prev1"], "mb")
    node("Mul", ["mb", "m_prev2"], "mt")
    # bigram / trigram rows, in int64 as in ngram_data.feature_ids
    node("Mul", ["ids_prev1", "prime"], "h2a"), node("Add", ["h2a", "ids"], "h2b"), node("Mod", ["h2b", "b2"], "h2c", fmod=0)
    node("Add", ["h2c", "off2"], "h2")
    node("Mul", ["ids_prev2", "prime"], "h3a"), node("Add", ["h3a", "ids_prev1"], "h3b")
    node("Mul", ["h3b", "prime"], "h3c"), node("Add", ["h3c", "ids"], "h3d"), node("Mod", ["h3d", "b3"], "h3e", fmod=0)
    node("Add", ["h3e", "off3"], "h3")
    node("Concat", ["ids", "h2", "h3"], "rows", axis=1)  # [B,3T]: one Gather (one table, int8-quantizable)
    # int8 rows with an fp16 scale per row (ngram.load_channel), dequantized after the Gather: [B,3T,K+L]
    node("Gather", ["table_q", "rows"], "gq", axis=0), node("Cast", ["gq"], "gf", to=TensorProto.FLOAT)
    node("Gather", ["table_scale", "rows"], "gs16", axis=0), node("Cast", ["gs16"], "gs", to=TensorProto.FLOAT)
    node("Mul", ["gf", "gs"], "g")
    node("Concat", ["m", "mb", "mt"], "mm", axis=1)
    node("Unsqueeze", ["mm", "axm1"], "mm3")
    node("Mul", ["g", "mm3"], "gm")
    node("Reshape", ["gm", "shape4"], "g4")
    node("ReduceSum", ["g4", "ax1"], "per_tok", keepdims=0)  # [B,T,K+L]
    node("ReduceSum", ["mm3", "ax1"], "n0", keepdims=1)  # [B,1,1]
    node("Max", ["n0", "one_f"], "n")
    node("Div", ["per_tok", "n"], "share")
    # language mix: share of CJK tokens among letter tokens
    node("Gather", ["letter", "ids"], "let0", axis=0), node("Mul", ["let0", "m"], "let1")
    node("ReduceSum", ["let1", "ax1"], "let", keepdims=1)
    node("Gather", ["cjk", "ids"], "cjk0", axis=0), node("Mul", ["cjk0", "m"], "cjk1")
    node("ReduceSum", ["cjk1", "ax1"], "cjkn", keepdims=1)
    node("Max", ["let", "one_f"], "let_c"), node("Div", ["cjkn", "let_c"], "f")  # [B,1]
    node("Mul", ["f", "w_diff"], "wd"), node("Add", ["wd", "w_en"], "w")  # [B,K+L]
    node("Unsqueeze", ["w", "ax1"], "w3")
    node("Mul", ["share", "w3"], "sw")
    node("Slice", ["sw", "k0", "kK", "axm1"], "sw_sent")
    node("Slice", ["sw", "kK", "kKL", "axm1"], "ngram_attr")
    node("Slice", ["w", "k0", "kK", "axm1"], "w_sent")
    node("ReduceSum", ["sw_sent", "ax1"], "s_sum", keepdims=0)
    node("Mul", ["w_sent", "b_sent"], "s_bias"), node("Add", ["s_sum", "s_bias"], "ngram_sent")
    node("ReduceSum", ["ngram_attr", "ax1"], "m_sum", keepdims=0)
    node("Add", ["m_sum", "b_mod_w"], "ngram_mod")
    g = helper.make_graph(
        nodes, "ngram_channel",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch_size", "sequence_length"])],
        [helper.make_tensor_value_info(p + "ngram_sent", TensorProto.FLOAT, ["batch_size", K]),
         helper.make_tensor_value_info(p + "ngram_mod", TensorProto.FLOAT, ["batch_size", L]),
         helper.make_tensor_value_info(p + "ngram_attr", TensorProto.FLOAT, ["batch_size", "sequence_length", L])],
        [numpy_helper.from_array(v, p + k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="steward-ngram")
    onnx.checker.check_model(m)
    return m


def merge(base_path, channel_path, out_path):
    """Appends the channel's nodes and initializers to the base graph and adds its outputs to the base outputs."""
    base, ch = onnx.load(base_path), onnx.load(channel_path)
    g = base.graph
    outs = {"sentiment_logits": "ngram_sent", "moderation_logits": "ngram_mod", "moderation_attribution": "ngram_attr"}
    for n in g.node:  # the base graph's producers of the three outputs now write to base/… names
        for i, o in enumerate(n.output):
            if o in outs:
                n.output[i] = "base/" + o
    for n in g.node:
        for i, x in enumerate(n.input):
            if x in outs:
                n.input[i] = "base/" + x
    g.node.extend(ch.graph.node)
    g.initializer.extend(ch.graph.initializer)
    for o, c in outs.items():
        g.node.append(helper.make_node("Add", ["base/" + o, PREFIX + c], [o], name=PREFIX + "add_" + o))
    onnx.checker.check_model(base)
    onnx.save(base, out_path)
