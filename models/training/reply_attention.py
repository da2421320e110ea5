"""Expose the reply decoder's cross-attention weights as ONNX outputs (`npm run train -- attention`).

There are no PyTorch weights of the bundled reply model, only its ONNX files, so this is graph surgery:
in each decoder layer, the Softmax whose scores come from the cross-attention keys (`cross.{i}.key`, the
output of the merged decoder's `If`) and whose weights multiply the cross-attention values (`cross.{i}.value`)
is made a graph output named `cross_attentions.{i}`, shape [batch, heads, decoder_len, encoder_len]: the name
@huggingface/transformers collects under `generate({ output_attentions: true, return_dict_in_generate: true })`
(getAttentions in models/modeling_utils.js looks for outputs starting with `cross_attentions`).

In reply_export.py's merged decoder the `If` on use_cache_branch only chooses the cross K/V (computed from
encoder_hidden_states on the first step, the cached ones later); the attention itself is computed once, after
the `If`, for both branches. So the softmax lives in the main graph and no branch needs an extra output. A graph
whose cross-attention softmax sits inside the branches is refused with a clear error rather than guessed at.

Nothing is recomputed or re-quantized: only graph outputs are added, so logits are unchanged (checked by
models/training/parity_attention.mjs). Idempotent: a file that already has the outputs is left alone.

    /usr/bin/python3 models/training/reply_attention.py [DIR ...]    # default: models/bundled/reply
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.join(HERE, "..", "bundled", "reply")
OUTPUT = "cross_attentions.{layer}"


def _upstream(graph: onnx.GraphProto, start: str, limit: int = 12) -> set[str]:
    """Names of every value within `limit` producer hops above `start`."""
    producer = {o: n for n in graph.node for o in n.output}
    seen, frontier = {start}, [start]
    for _ in range(limit):
        nxt = []
        for name in frontier:
            node = producer.get(name)
            if node is None:
                continue
            for i in node.input:
                if i and i not in seen:
                    seen.add(i)
                    nxt.append(i)
        frontier = nxt
    return seen


def cross_attention_softmaxes(graph: onnx.GraphProto, layers: int) -> list[str]:
    """The output name of the cross-attention Softmax of each decoder layer, in layer order."""
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    found: dict[int, str] = {}
    for node in graph.node:
        if node.op_type != "Softmax":
            continue
        scores_from = _upstream(graph, node.input[0])
        # The weights must feed the MatMul with the same layer's cross-attention values.
        users = consumers.get(node.output[0], [])
        for layer in range(layers):
            if f"cross.{layer}.key" not in scores_from:
                continue
            if any(u.op_type == "MatMul" and f"cross.{layer}.value" in _upstream(graph, u.input[1], 3) for u in users):
                if layer in found:
                    raise SystemExit(f"two cross-attention softmaxes for layer {layer}: {found[layer]}, {node.output[0]}")
                found[layer] = node.output[0]
    missing = [layer for layer in range(layers) if layer not in found]
    if missing:
        in_branches = any(
            x.op_type == "Softmax" for n in graph.node if n.op_type == "If" for a in n.attribute for x in a.g.node
        )
        where = " (a Softmax sits inside the If's branches: this script only handles the attention after the If)" if in_branches else ""
        raise SystemExit(f"no cross-attention softmax found for decoder layer(s) {missing}{where}")
    return [found[layer] for layer in range(layers)]


def add_outputs(path: str, layers: int) -> bool:
    model = onnx.load(path)
    graph = model.graph
    have = {o.name for o in graph.output}
    if all(OUTPUT.format(layer=i) in have for i in range(layers)):
        print(f"{path}: already has cross_attentions outputs")
        return False
    softmaxes = cross_attention_softmaxes(graph, layers)
    for layer, value in enumerate(softmaxes):
        name = OUTPUT.format(layer=layer)
        # An Identity gives the softmax result the output's name without renaming anything the graph uses.
        graph.node.append(helper.make_node("Identity", [value], [name], name=f"/steward/{name}"))
        graph.output.append(
            helper.make_tensor_value_info(
                name, TensorProto.FLOAT, ["batch_size", "num_heads", "decoder_sequence_length", "encoder_sequence_length"]
            )
        )
        print(f"{path}: {name} <- {value}")
    onnx.checker.check_model(model)
    before = os.path.getsize(path)
    onnx.save(model, path)
    print(f"{path}: {before} -> {os.path.getsize(path)} bytes")
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dirs", nargs="*", default=[DEFAULT_DIR], help="reply model folders (default: the bundled one)")
    args = parser.parse_args(argv)
    for folder in args.dirs:
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        layers = int(config.get("num_decoder_layers") or config["num_layers"])
        files = sorted(glob.glob(os.path.join(folder, "onnx", "decoder_model_merged*.onnx")))
        if not files:
            raise SystemExit(f"{folder}: no onnx/decoder_model_merged*.onnx")
        for path in files:
            add_outputs(path, layers)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
