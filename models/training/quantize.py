"""Dynamic int8 quantization of an ONNX model with the `onnx` package only (no onnxruntime python).

    from quantize import quantize
    quantize("onnx/model.onnx", "onnx/model_quantized.onnx")

    /usr/bin/python3 models/training/quantize.py in.onnx out_quantized.onnx [--per-tensor] [--no-gather]

Emits the same pattern as onnxruntime.quantization.quantize_dynamic (weight_type=QInt8):
  x -> DynamicQuantizeLinear -> (x_q:uint8, x_scale, x_zp)
  MatMulInteger(x_q, W_q:int8, x_zp, W_zp) -> Cast(float) -> Mul(., x_scale * W_scale)
for every MatMul whose 2-D weight (input B) is an initializer, and for every Gemm with an initializer weight
(rewritten as quantized MatMul + Add of the bias). Weight scales are per output column by default
(symmetric int8, zero point 0), per tensor with --per-tensor.
Large embedding tables used by Gather (input 0 an initializer) are stored int8 with a per-row scale:
  Gather(W_q, ids) -> Cast(float) -> Mul(Gather(scale, ids))   (exact row dequantization, no full-table work)
The result passes onnx.checker and keeps the input/output names, so @huggingface/transformers loads it
with {dtype: 'q8'} as onnx/model_quantized.onnx.
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _quant_weight(W, per_channel):
    """W: [K, N] float -> (int8 [K,N], scale [N] or [], zero_point int8 like scale)."""
    if per_channel:
        amax = np.abs(W).max(axis=0)
    else:
        amax = np.array(np.abs(W).max())
    scale = (np.maximum(amax, 1e-8) / 127.0).astype(np.float32)
    q = np.clip(np.round(W / scale), -127, 127).astype(np.int8)
    zp = np.zeros(scale.shape, dtype=np.int8)
    return q, scale, zp


def quantize(in_path, out_path, per_channel=True, quantize_gather=True, min_matmul_elements=4096,
             min_gather_elements=65536, verbose=True):
    model = onnx.load(in_path)
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    uses = {}
    for n in g.node:
        for x in n.input:
            uses[x] = uses.get(x, 0) + 1
    new_nodes, new_inits = [], []
    dql_cache = {}  # activation name -> (q, scale, zp)
    drop = set()
    stats = {"matmul": 0, "gemm": 0, "gather": 0, "skipped": 0}
    uid = [0]

    def name(base):
        uid[0] += 1
        return f"{base}_q{uid[0]}"

    def dql(x):
        if x not in dql_cache:
            q, s, z = f"{x}_quantized", f"{x}_scale", f"{x}_zero_point"
            new_nodes.append(helper.make_node("DynamicQuantizeLinear", [x], [q, s, z], name=f"{x}_QuantizeLinear"))
            dql_cache[x] = (q, s, z)
        return dql_cache[x]

    quantized_uses = {}  # weight name -> uses replaced so far; a weight used by several nodes is stored once

    def replaced(wname):
        """Counts one more quantized use of a weight; True when it was already stored (and drops the float weight
        once every use is quantized)."""
        quantized_uses[wname] = quantized_uses.get(wname, 0) + 1
        if quantized_uses[wname] == uses.get(wname, 0):
            drop.add(wname)
        return quantized_uses[wname] > 1

    def qmatmul(x, W, wname, out, node_name):
        wq, ws, wz = f"{wname}_quantized", f"{wname}_scale", f"{wname}_zero_point"
        if not replaced(wname):
            qw, sw, zw = _quant_weight(W, per_channel)
            new_inits.extend([numpy_helper.from_array(qw, wq), numpy_helper.from_array(sw, ws),
                              numpy_helper.from_array(zw, wz)])
        xq, xs, xz = dql(x)
        mi = name(f"{node_name}_MatMulInteger")
        new_nodes.append(helper.make_node("MatMulInteger", [xq, wq, xz, wz], [mi + "_out"], name=mi))
        cast = name(f"{node_name}_Cast")
        new_nodes.append(helper.make_node("Cast", [mi + "_out"], [cast + "_out"], to=TensorProto.FLOAT, name=cast))
        sm = name(f"{node_name}_scales_mul")
        new_nodes.append(helper.make_node("Mul", [xs, ws], [sm + "_out"], name=sm))
        new_nodes.append(helper.make_node("Mul", [cast + "_out", sm + "_out"], [out], name=name(f"{node_name}_output_mul")))

    for node in g.node:
        if node.op_type == "MatMul" and node.input[1] in inits and node.input[0] not in inits:
            W = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
            if W.ndim == 2 and W.size >= min_matmul_elements:
                qmatmul(node.input[0], W, node.input[1], node.output[0], node.name or "MatMul")
                stats["matmul"] += 1
                continue
            stats["skipped"] += 1
        if node.op_type == "Gemm" and node.input[1] in inits and not _attr(node, "transA", 0):
            W = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
            alpha, beta = _attr(node, "alpha", 1.0), _attr(node, "beta", 1.0)
            if W.ndim == 2 and W.size >= min_matmul_elements and alpha == 1.0:
                if _attr(node, "transB", 0):
                    W = W.T.copy()
                base = node.name or "Gemm"
                if len(node.input) > 2 and node.input[2]:
                    mm_out = name(f"{base}_matmul") + "_out"
                    qmatmul(node.input[0], W, node.input[1], mm_out, base)
                    bias = node.input[2]
                    if beta != 1.0:
                        b = numpy_helper.to_array(inits[bias]).astype(np.float32) * beta
                        bias = name(f"{base}_bias")
                        new_inits.append(numpy_helper.from_array(b, bias))
                    new_nodes.append(helper.make_node("Add", [mm_out, bias], [node.output[0]], name=name(f"{base}_bias_add")))
                else:
                    qmatmul(node.input[0], W, node.input[1], node.output[0], base)
                stats["gemm"] += 1
                continue
            stats["skipped"] += 1
        if (quantize_gather and node.op_type == "Gather" and node.input[0] in inits and _attr(node, "axis", 0) == 0):
            W = numpy_helper.to_array(inits[node.input[0]]).astype(np.float32)
            if W.ndim == 2 and W.size >= min_gather_elements:
                wq, ws = f"{node.input[0]}_quantized", f"{node.input[0]}_row_scale"
                if not replaced(node.input[0]):
                    amax = np.maximum(np.abs(W).max(axis=1, keepdims=True), 1e-8)
                    scale = (amax / 127.0).astype(np.float32)  # [V,1]
                    qw = np.clip(np.round(W / scale), -127, 127).astype(np.int8)
                    new_inits += [numpy_helper.from_array(qw, wq), numpy_helper.from_array(scale, ws)]
                base = node.name or "Gather"
                g1, g2, c = name(base + "_rows"), name(base + "_scales"), name(base + "_cast")
                new_nodes.append(helper.make_node("Gather", [wq, node.input[1]], [g1 + "_out"], axis=0, name=g1))
                new_nodes.append(helper.make_node("Cast", [g1 + "_out"], [c + "_out"], to=TensorProto.FLOAT, name=c))
                new_nodes.append(helper.make_node("Gather", [ws, node.input[1]], [g2 + "_out"], axis=0, name=g2))
                new_nodes.append(helper.make_node("Mul", [c + "_out", g2 + "_out"], [node.output[0]], name=name(base + "_dequant")))
                stats["gather"] += 1
                continue
        new_nodes.append(node)

    del g.node[:]
    g.node.extend(new_nodes)
    keep = [i for i in g.initializer if i.name not in drop]
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    # value_info of replaced tensors stays valid (same names / dtypes); drop stale entries for removed weights
    vi = [v for v in g.value_info if v.name not in drop]
    del g.value_info[:]
    g.value_info.extend(vi)
    # ops need opset >= 11 (DynamicQuantizeLinear); keep the model's default-domain opset if higher
    for op in model.opset_import:
        if op.domain in ("", "ai.onnx") and op.version < 11:
            op.version = 11
    onnx.checker.check_model(model)
    onnx.save(model, out_path)
    if verbose:
        print(f"quantized {stats} {os.path.getsize(in_path) / 1e6:.2f} MB -> {os.path.getsize(out_path) / 1e6:.2f} MB: {out_path}",
              flush=True)
    return stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output", nargs="?")
    ap.add_argument("--per-tensor", action="store_true")
    ap.add_argument("--no-gather", action="store_true")
    a = ap.parse_args()
    out = a.output or a.input.replace(".onnx", "_quantized.onnx")
    quantize(a.input, out, per_channel=not a.per_tensor, quantize_gather=not a.no_gather)


if __name__ == "__main__":
    main()
