"""ONNX export of the reply model in the layout @huggingface/transformers expects for T5 (Optimum names).

onnx/encoder_model.onnx:        input_ids, attention_mask -> last_hidden_state
onnx/decoder_model_merged.onnx: encoder_attention_mask, input_ids, encoder_hidden_states,
                                past_key_values.{i}.decoder.key/value, past_key_values.{i}.encoder.key/value,
                                use_cache_branch
                                -> logits, present.{i}.decoder.key/value, present.{i}.encoder.key/value
(all cache tensors [batch_size, num_heads, seq, d_kv]).

How transformers.js 4.3.1 drives the merged decoder (src/models/modeling_utils.js):
  step 1: use_cache_branch=false, every past_key_values.* is an empty tensor [batch, heads, 0, d_kv]
          (addPastKeyValues builds them from the input metadata: only the `batch_size` symbol is resolved,
          every other symbolic dim becomes 0 -- so heads/d_kv are fixed numbers in our graph).
  step n: use_cache_branch=true, past decoder K/V = previous present.*.decoder.*, past encoder K/V = the
          present.*.encoder.* of step 1 (getPastKeyValues keeps the first ones and ignores later outputs).
Our graph: self-attention always concatenates past (length p >= 0) with the new K/V, and the relative position
bias uses query positions p..p+t-1. Cross-attention K/V come from an ONNX `If` on use_cache_branch:
  else (first step): computed from encoder_hidden_states;  then: the past encoder K/V passed in.
present.*.encoder.* are the If outputs, so they equal the cross K/V on every step.
The graph is built by exporting a "with past" decoder from PyTorch (cross K/V as inputs) and then adding the
If node, the encoder_hidden_states / use_cache_branch inputs and the present.*.encoder outputs with `onnx`.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common as C  # noqa: E402
import reply_attention  # noqa: E402
import reply_train as R  # noqa: E402

OPSET = 14
PARITY_CONTEXTS = [
    ["Do you like Star Wars?"],
    ["I just got back from the Beatles tribute concert.", "Oh nice, how was it?"],
    ["Who is your favourite basketball player?", "LeBron James, no question.", "Why him and not Jordan?"],
    ["hey"],
    ["What kind of music do you listen to?", "Mostly rock, some rap. You?"],
    ["Did you watch the game last night?", "Yes! The Patriots were amazing.", "I can't believe that last touchdown."],
    ["I think Harry Potter is overrated.", "Really? Which part?"],
    ["Lady Gaga's new album is out."],
]


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def load_model(out):
    import torch
    from reply_model import ReplyConfig, ReplyModel

    p = os.path.join(out, "model.pt")
    if not os.path.exists(p):
        p = os.path.join(out, "ckpt.pt")
    st = torch.load(p)
    cfg = ReplyConfig(**st["cfg"])
    m = ReplyModel(cfg)
    m.load_state_dict(st["model"])
    m.eval()
    return m, cfg, st.get("meta", {"checkpoint": p})


# --------------------------------------------------------------------------------------------
# torch export
# --------------------------------------------------------------------------------------------

def export_encoder(model, path):
    import torch

    class Enc(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            return self.m.encode(input_ids, attention_mask)

    ids = torch.tensor([[5, 6, 7, 8, 1], [9, 10, 1, 0, 0]])
    am = (ids != 0).long()
    am[0, :] = 1
    torch.onnx.export(Enc(model), (ids, am), path, opset_version=OPSET, do_constant_folding=True,
                      input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                      dynamic_axes={"input_ids": {0: "batch_size", 1: "encoder_sequence_length"},
                                    "attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
                                    "last_hidden_state": {0: "batch_size", 1: "encoder_sequence_length"}})


def export_decoder_with_past(model, cfg, path):
    """Decoder whose cross K/V are inputs named past_key_values.{i}.encoder.key/value."""
    import torch

    L = cfg.num_decoder_layers

    class Dec(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, encoder_attention_mask, input_ids, *pkv):
            past = [(pkv[4 * i], pkv[4 * i + 1]) for i in range(L)]
            cross = [(pkv[4 * i + 2], pkv[4 * i + 3]) for i in range(L)]
            logits, presents, _ = self.m.decode(input_ids, None, encoder_attention_mask, past, cross)
            out = [logits]
            for k, v in presents:
                out += [k, v]
            return tuple(out)

    b, S, P, T = 2, 5, 3, 1
    H, dk = cfg.num_heads, cfg.d_kv
    enc_mask = torch.ones(b, S, dtype=torch.long)
    ids = torch.tensor([[5], [6]])
    pkv, in_names, axes = [], ["encoder_attention_mask", "input_ids"], {
        "encoder_attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
        "input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
        "logits": {0: "batch_size", 1: "decoder_sequence_length"},
    }
    out_names = ["logits"]
    for i in range(L):
        for kind, n in (("decoder", P), ("encoder", S)):
            for kv in ("key", "value"):
                pkv.append(torch.randn(b, H, n, dk))
                nm = f"past_key_values.{i}.{kind}.{kv}"
                in_names.append(nm)
                axes[nm] = {0: "batch_size", 2: f"past_{kind}_sequence_length" if kind == "decoder"
                            else "encoder_sequence_length_out"}
        for kv in ("key", "value"):
            nm = f"present.{i}.decoder.{kv}"
            out_names.append(nm)
            axes[nm] = {0: "batch_size", 2: "past_decoder_sequence_length + 1"}
    torch.onnx.export(Dec(model), (enc_mask, ids, *pkv), path, opset_version=OPSET, do_constant_folding=True,
                      input_names=in_names, output_names=out_names, dynamic_axes=axes)


def add_cross_if(model, cfg, path_in, path_out):
    """Turn the with-past decoder into the merged decoder (see module docstring)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load(path_in)
    g = m.graph
    L, H, dk, d = cfg.num_decoder_layers, cfg.num_heads, cfg.d_kv, cfg.d_model
    # 1) internal names for the cross K/V used by the attention nodes
    rename = {}
    for i in range(L):
        for kv in ("key", "value"):
            rename[f"past_key_values.{i}.encoder.{kv}"] = f"cross.{i}.{kv}"
    for n in g.node:
        for j, x in enumerate(n.input):
            if x in rename:
                n.input[j] = rename[x]
    # 2) new inputs
    g.input.append(helper.make_tensor_value_info("encoder_hidden_states", TensorProto.FLOAT,
                                                 ["batch_size", "encoder_sequence_length", d]))
    g.input.append(helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1]))
    # fix the metadata of the encoder past inputs: [batch_size, H, encoder_sequence_length_out, dk]
    for vi in g.input:
        if vi.name.startswith("past_key_values."):
            dims = vi.type.tensor_type.shape.dim
            dims[1].ClearField("dim_param")
            dims[1].dim_value = H
            dims[3].ClearField("dim_param")
            dims[3].dim_value = dk
    # 3) weights of the cross-attention K/V projections, transposed to [d, H*dk]
    sd = model.state_dict()
    wnames = {}
    for i in range(L):
        for kv, short in (("key", "k"), ("value", "v")):
            W = sd[f"dec_layers.{i}.cross_attn.{short}.weight"].detach().numpy().T.copy().astype(np.float32)
            nm = f"cross_{short}_proj.{i}.weight_t"
            g.initializer.append(numpy_helper.from_array(W, nm))
            wnames[(i, kv)] = nm
    g.initializer.append(numpy_helper.from_array(np.array([0, -1, H, dk], dtype=np.int64), "cross_kv_shape"))
    # 4) If node
    then_nodes, then_outs, else_nodes, else_outs, if_outs = [], [], [], [], []
    for i in range(L):
        for kv in ("key", "value"):
            t_out = f"then.cross.{i}.{kv}"
            then_nodes.append(helper.make_node("Identity", [f"past_key_values.{i}.encoder.{kv}"], [t_out],
                                               name=f"then_identity_{i}_{kv}"))
            then_outs.append(helper.make_tensor_value_info(t_out, TensorProto.FLOAT, None))
            e = f"else.cross.{i}.{kv}"
            else_nodes += [
                helper.make_node("MatMul", ["encoder_hidden_states", wnames[(i, kv)]], [e + ".mm"], name=f"else_mm_{i}_{kv}"),
                helper.make_node("Reshape", [e + ".mm", "cross_kv_shape"], [e + ".rs"], name=f"else_rs_{i}_{kv}"),
                helper.make_node("Transpose", [e + ".rs"], [e], perm=[0, 2, 1, 3], name=f"else_tr_{i}_{kv}"),
            ]
            else_outs.append(helper.make_tensor_value_info(e, TensorProto.FLOAT, None))
            if_outs.append(f"cross.{i}.{kv}")
    then_g = helper.make_graph(then_nodes, "use_cache_branch_true", [], then_outs)
    else_g = helper.make_graph(else_nodes, "use_cache_branch_false", [], else_outs)
    if_node = helper.make_node("If", ["use_cache_branch"], if_outs, name="optimum::if", then_branch=then_g,
                               else_branch=else_g)
    pres_nodes = []
    for i in range(L):
        for kv in ("key", "value"):
            pres_nodes.append(helper.make_node("Identity", [f"cross.{i}.{kv}"], [f"present.{i}.encoder.{kv}"],
                                               name=f"present_encoder_{i}_{kv}"))
            g.output.append(helper.make_tensor_value_info(f"present.{i}.encoder.{kv}", TensorProto.FLOAT,
                                                          ["batch_size", H, "encoder_sequence_length_out", dk]))
    nodes = [if_node] + list(g.node) + pres_nodes
    del g.node[:]
    g.node.extend(nodes)
    # decoder present outputs: fixed heads / d_kv
    for vo in g.output:
        if vo.name.startswith("present.") and ".decoder." in vo.name:
            dims = vo.type.tensor_type.shape.dim
            dims[1].ClearField("dim_param")
            dims[1].dim_value = H
            dims[3].ClearField("dim_param")
            dims[3].dim_value = dk
    # order inputs like Optimum
    order = ["encoder_attention_mask", "input_ids", "encoder_hidden_states"]
    for i in range(L):
        for kind in ("decoder", "encoder"):
            for kv in ("key", "value"):
                order.append(f"past_key_values.{i}.{kind}.{kv}")
    order.append("use_cache_branch")
    by = {vi.name: vi for vi in g.input}
    ins = [by[n] for n in order]
    del g.input[:]
    g.input.extend(ins)
    del g.value_info[:]
    onnx.checker.check_model(m)
    onnx.save(m, path_out)


def fix_encoder_meta(path, d):
    import onnx

    m = onnx.load(path)
    for vo in m.graph.output:
        dims = vo.type.tensor_type.shape.dim
        if len(dims) == 3:
            dims[2].ClearField("dim_param")
            dims[2].dim_value = d
    onnx.save(m, path)


def quantize_file(src, dst):
    from quantize import quantize

    quantize(src, dst)


# --------------------------------------------------------------------------------------------
# folder files
# --------------------------------------------------------------------------------------------

def write_configs(dest, cfg, fp32_bundled, meta):
    # An answer model (train --grounded-only) writes library answers only: one input layout, greedy decoding.
    answer = bool(meta.get("grounded_only"))
    conf = {
        "architectures": ["T5ForConditionalGeneration"],
        "model_type": "t5",
        "d_model": cfg.d_model,
        "d_kv": cfg.d_kv,
        "d_ff": cfg.d_ff,
        "num_layers": cfg.num_layers,
        "num_decoder_layers": cfg.num_decoder_layers,
        "num_heads": cfg.num_heads,
        "vocab_size": cfg.vocab_size,
        "relative_attention_num_buckets": cfg.relative_attention_num_buckets,
        "relative_attention_max_distance": cfg.relative_attention_max_distance,
        "dropout_rate": 0.0,
        "layer_norm_epsilon": cfg.layer_norm_epsilon,
        "initializer_factor": 1.0,
        "feed_forward_proj": "relu",
        "is_encoder_decoder": True,
        "tie_word_embeddings": True,
        "use_cache": True,
        "decoder_start_token_id": cfg.decoder_start_id,
        "pad_token_id": cfg.pad_id,
        "eos_token_id": cfg.eos_id,
        "torch_dtype": "float32",
        "steward": {
            "task": "answer" if answer else "reply",
            # the answer model's drills are English (self_dialogue lines, Topical-Chat leads): it is not run on others
            **({"languages": ["en"]} if answer else {}),
            "context_separator": R.SEP_TEXT,
            "context_separator_id": R.SEP_ID,
            "max_context_turns": R.MAX_CONTEXT_TURNS,
            "max_input_length": 128 if meta.get("grounded") else R.MAX_INPUT_LEN,
            "max_target_length": R.MAX_TARGET_LEN,
            "turn_preprocessing": "collapse whitespace (incl. newlines) to single spaces, trim; keep case",
            "input_format": "turns (oldest first, at most max_context_turns) joined with context_separator, "
                            "no spaces around it; the tokenizer appends </s>. Drop the oldest turns while the "
                            "tokenized input is longer than max_input_length.",
            "attention_scaling": "1/sqrt(d_kv) (not HF T5 numerics: only the ONNX files are meant to be used)",
            "onnx_files": ["encoder_model" + ("" if fp32_bundled else "_quantized"),
                           "decoder_model_merged" + ("" if fp32_bundled else "_quantized")],
            "trained_steps": meta.get("steps"),
            **({"fine_tuned_from": f"reply {meta['init_from_version']} (its int8 ONNX, reply_warmstart.py)"}
               if meta.get("init_from_version") else {}),
            **({"source_prefix": "source: ", "source_note": "grounded replies: the last turn is `source: <title>. <passage>`"}
               if meta.get("grounded") else {}),
            "cross_attentions": "decoder outputs cross_attentions.{layer}, [batch, heads, decoder_len, encoder_len], "
                                "added by models/training/reply_attention.py",
            "version": R.ANSWER_VERSION if answer else R.VERSION,
        },
    }
    if not fp32_bundled:
        conf["transformers.js_config"] = {"dtype": "q8"}
    gen = {
        "decoder_start_token_id": cfg.decoder_start_id,
        "pad_token_id": cfg.pad_id,
        "eos_token_id": cfg.eos_id,
        # Greedy copying loops back when a phrase occurs twice in the sentence ("and people prefer and …"): the
        # previous-token channel points at both places. Blocking repeated trigrams ends the loop.
        **({"do_sample": False, "no_repeat_ngram_size": 3} if answer else {
            "do_sample": True,
            "top_k": 40,
            "top_p": 0.9,
            "temperature": 0.8,
            "repetition_penalty": 1.2,
            "no_repeat_ngram_size": 3,
        }),
        "max_new_tokens": 32,
        "min_new_tokens": 2,
    }
    C.atomic_write_json(os.path.join(dest, "config.json"), conf)
    C.atomic_write_json(os.path.join(dest, "generation_config.json"), gen)


def copy_tokenizer(tok_dir, dest):
    for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model"):
        src = os.path.join(tok_dir, f)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(dest, f))


def make_parity(model, tok, n_logit_ctx=3, n_logit_steps=2, max_new=24):
    import torch

    cases = []
    for turns in PARITY_CONTEXTS:
        text = R.join_context(turns)
        ids = tok.encode(text)
        built = R.build_input_ids([tok.encode(R.clean_turn(t), add_eos=False) for t in turns])
        assert ids == built, (text, ids, built)
        x = torch.tensor([ids])
        am = torch.ones_like(x)
        out, _ = model.greedy(x, am, max_new_tokens=max_new)
        seq = [0] + out[0]
        case = {"turns": turns, "text": text, "input_ids": ids, "greedy_ids": seq}
        if len(cases) < n_logit_ctx:
            with torch.no_grad():
                lg = model(x, am, torch.tensor([seq[:n_logit_steps]]))[0]
            case["logits"] = [[round(float(v), 4) for v in row] for row in lg]
        cases.append(case)
    return {"max_new_tokens": max_new, "cases": cases,
            "note": "greedy_ids start with decoder_start (0); logits: teacher-forced on greedy_ids[:k] (no cache)"}


def export(args):
    import torch

    torch.set_num_threads(max(1, args.threads))
    model, cfg, meta = load_model(args.out)
    if getattr(args, "answer", False):  # a run from before train recorded grounded_only
        meta = {**meta, "grounded": True, "grounded_only": True}
    tdir = R.tokenizer_dir(args)
    tok = R.load_tokenizer(tdir)
    exp = os.path.join(args.out, "export")
    onnx_dir = os.path.join(exp, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)
    t0 = time.time()
    enc = os.path.join(onnx_dir, "encoder_model.onnx")
    export_encoder(model, enc)
    fix_encoder_meta(enc, cfg.d_model)
    tmp = os.path.join(onnx_dir, "decoder_with_past.tmp.onnx")
    export_decoder_with_past(model, cfg, tmp)
    dec = os.path.join(onnx_dir, "decoder_model_merged.onnx")
    add_cross_if(model, cfg, tmp, dec)
    os.remove(tmp)
    # cross_attentions.{i} outputs for explanations (reply_attention.py); quantizing keeps them.
    reply_attention.add_outputs(dec, cfg.num_decoder_layers)
    quantize_file(enc, os.path.join(onnx_dir, "encoder_model_quantized.onnx"))
    quantize_file(dec, os.path.join(onnx_dir, "decoder_model_merged_quantized.onnx"))
    log(f"onnx export + quantize {time.time() - t0:.0f}s")
    parity = make_parity(model, tok)
    # full export folder (fp32 + int8) for parity/eval
    write_configs(exp, cfg, True, meta)
    copy_tokenizer(tdir, exp)
    C.atomic_write_json(os.path.join(exp, "parity.json"), parity)
    # bundled folder: int8 always; fp32 only if it fits the size budget
    fp32_size = os.path.getsize(enc) + os.path.getsize(dec)
    q_size = sum(os.path.getsize(os.path.join(onnx_dir, f)) for f in
                 ("encoder_model_quantized.onnx", "decoder_model_merged_quantized.onnx"))
    fp32_ok = (fp32_size + q_size < 28e6 and max(os.path.getsize(enc), os.path.getsize(dec)) < 19.5e6)
    dest = args.dest
    os.makedirs(os.path.join(dest, "onnx"), exist_ok=True)
    for f in os.listdir(os.path.join(dest, "onnx")):
        os.remove(os.path.join(dest, "onnx", f))
    files = ["encoder_model_quantized.onnx", "decoder_model_merged_quantized.onnx"]
    if fp32_ok:
        files += ["encoder_model.onnx", "decoder_model_merged.onnx"]
    for f in files:
        shutil.copy(os.path.join(onnx_dir, f), os.path.join(dest, "onnx", f))
    write_configs(dest, cfg, fp32_ok, meta)
    copy_tokenizer(tdir, dest)
    C.atomic_write_json(os.path.join(dest, "parity.json"), parity)
    C.atomic_write_json(os.path.join(exp, "export_meta.json"), {"fp32_bundled": fp32_ok, "fp32_bytes": fp32_size,
                                                                 "int8_bytes": q_size, "train": meta})
    log(f"fp32 {fp32_size / 1e6:.1f} MB, int8 {q_size / 1e6:.1f} MB; bundled {'fp32+int8' if fp32_ok else 'int8 only'}"
        f" -> {dest}")
    if not args.no_node:
        node_parity(exp, fp32=True)
        node_parity(exp, fp32=False)
        if os.path.realpath(dest) != os.path.realpath(exp):
            node_parity(dest, fp32=fp32_ok)


def node_parity(folder, fp32=True):
    cmd = ["node", os.path.join(HERE, "parity_reply.mjs"), folder, "--dtype", "fp32" if fp32 else "q8"]
    log("$", " ".join(cmd))
    r = subprocess.run(cmd, cwd=C.REPO)
    if r.returncode != 0:
        raise SystemExit(f"node parity failed for {folder} ({'fp32' if fp32 else 'q8'})")
