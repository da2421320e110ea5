"""Rebuild the reply model's PyTorch weights from a bundled int8 ONNX folder (`reply.py train --init-from DIR`).

The bundled folder holds only `onnx/*_quantized.onnx` (no PyTorch weights). To fine-tune it instead of training
from scratch, this module:
  1. builds a ReplyModel of the folder's config with random weights (every tensor distinct) and exports it through
     the same code as `reply.py export` (encoder; with-past decoder, merged `If`, attention outputs);
  2. maps each initializer of that export back to the PyTorch parameter it came from by value (the exporter
     names MatMul weights `onnx::MatMul_N` and stores them transposed), so the mapping holds for any export made
     by this code;
  3. reads the same initializer names in the bundled int8 files and dequantizes them (per-column scale and zero
     point of MatMulInteger weights; per-row scale of the embedding table), fp32 tensors as they are.
Every parameter must be found, or it stops with the names it missed. The result differs from the weights the
folder was exported from by the int8 rounding only (checked by `check`: same greedy replies).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def _config(folder):
    from reply_model import ReplyConfig

    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        c = json.load(f)
    return ReplyConfig(vocab_size=c["vocab_size"], d_model=c["d_model"], d_kv=c["d_kv"], d_ff=c["d_ff"],
                       num_heads=c["num_heads"], num_layers=c["num_layers"],
                       num_decoder_layers=c["num_decoder_layers"],
                       relative_attention_num_buckets=c["relative_attention_num_buckets"],
                       relative_attention_max_distance=c["relative_attention_max_distance"],
                       layer_norm_epsilon=c["layer_norm_epsilon"])


def _export_names(model, cfg, tmp):
    """{initializer name: (param name, transposed)} for the encoder and merged decoder of `model`'s export."""
    import onnx
    import reply_attention
    from onnx import numpy_helper
    from reply_export import add_cross_if, export_decoder_with_past, export_encoder

    enc = os.path.join(tmp, "encoder_model.onnx")
    export_encoder(model, enc)
    dec_tmp = os.path.join(tmp, "decoder_with_past.onnx")
    export_decoder_with_past(model, cfg, dec_tmp)
    dec = os.path.join(tmp, "decoder_model_merged.onnx")
    add_cross_if(model, cfg, dec_tmp, dec)
    reply_attention.add_outputs(dec, cfg.num_decoder_layers)
    params = {n: p.detach().numpy() for n, p in model.named_parameters()}
    maps = {}
    for kind, path in (("encoder", enc), ("decoder", dec)):
        m = onnx.load(path)
        inits = list(m.graph.initializer)
        for node in m.graph.node:  # initializers inside the If branches
            for a in node.attribute:
                if a.g is not None:
                    inits += list(a.g.initializer)
        found = {}
        for init in inits:
            x = numpy_helper.to_array(init)
            if x.dtype != np.float32 or x.size < 2:
                continue
            for name, p in params.items():
                if p.shape == x.shape and np.array_equal(p, x):
                    found[init.name] = (name, False)
                    break
                if p.ndim == 2 and p.T.shape == x.shape and np.array_equal(p.T, x):
                    found[init.name] = (name, True)
                    break
        maps[kind] = found
    return maps


def _bundled_tensors(path):
    """Initializers of a (quantized) ONNX file, by name, including those inside If branches."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    inits = list(m.graph.initializer)
    for node in m.graph.node:
        for a in node.attribute:
            if a.g is not None:
                inits += list(a.g.initializer)
    return {i.name: numpy_helper.to_array(i) for i in inits}


def _dequantized(tensors, name):
    """The fp32 value of initializer `name` as the exporter wrote it, from the int8 file's tensors."""
    if name in tensors and tensors[name].dtype == np.float32:
        return tensors[name]
    q = tensors.get(f"{name}_quantized")
    if q is None:
        return None
    if f"{name}_row_scale" in tensors:  # Gather table: per-row scale
        return q.astype(np.float32) * tensors[f"{name}_row_scale"]
    scale = tensors[f"{name}_scale"]
    zp = tensors.get(f"{name}_zero_point", np.zeros_like(scale, dtype=np.int8))
    return (q.astype(np.float32) - zp.astype(np.float32)) * scale


def load_state(folder):
    """(ReplyConfig, state_dict, the folder's steward.version) rebuilt from the int8 ONNX files of a bundled reply
    folder."""
    import torch
    from reply_model import ReplyModel

    cfg = _config(folder)
    torch.manual_seed(0)
    model = ReplyModel(cfg)
    with torch.no_grad():  # distinct values everywhere (RMSNorm weights start at 1, identical across layers)
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    model.eval()
    with tempfile.TemporaryDirectory() as tmp:
        maps = _export_names(model, cfg, tmp)
    onnx_dir = os.path.join(folder, "onnx")
    state = {}
    for kind in ("encoder", "decoder"):
        tensors = _bundled_tensors(os.path.join(onnx_dir, f"{kind}_model{'_merged' if kind == 'decoder' else ''}"
                                                         "_quantized.onnx"))
        for init, (param, transposed) in maps[kind].items():
            if param in state:
                continue
            x = _dequantized(tensors, init)
            if x is None:
                continue
            state[param] = torch.from_numpy(np.ascontiguousarray(x.T if transposed else x).copy())
    missing = [n for n, _ in model.named_parameters() if n not in state]
    if missing:
        raise SystemExit(f"reply_warmstart: {folder}: no weights found for {missing}")
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        version = json.load(f).get("steward", {}).get("version")
    return cfg, state, version


def check(folder):
    """Greedy replies of the rebuilt PyTorch model vs the folder's parity.json (written at export)."""
    import torch
    from reply_model import ReplyModel

    cfg, state, _ = load_state(folder)
    model = ReplyModel(cfg)
    model.load_state_dict(state)
    model.eval()
    with open(os.path.join(folder, "parity.json"), encoding="utf-8") as f:
        parity = json.load(f)
    same = total = 0
    max_diff = 0.0
    for case in parity["cases"]:
        ids = torch.tensor([case["input_ids"]])
        want = case["greedy_ids"][1:]  # without the decoder start token
        got = model.greedy(ids, torch.ones_like(ids), max_new_tokens=len(want))[0][0]
        total += 1
        same += int(got == want)
        with torch.no_grad():  # first-step logits vs the export's
            lg = model(ids, torch.ones_like(ids), torch.tensor([case["greedy_ids"][:1]]))[0, 0].numpy()
        if case.get("logits"):
            max_diff = max(max_diff, float(np.abs(lg - np.array(case["logits"][0])).max()))
    print(json.dumps({"folder": folder, "params": len(state), "greedy_equal": same, "greedy_cases": total,
                      "first_step_logits_max_abs_diff": round(max_diff, 4)}))


if __name__ == "__main__":
    check(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "bundled", "reply"))
