"""Writes models/tiny_transformer.onnx: the bundled default model.

One BERT-style encoder layer (multi-head self-attention, GELU MLP, two
LayerNorms) with dynamic `batch` and `seq` dims, hidden 64, 4 heads, as
PyTorch's exporter would emit it (Reshape/Transpose around the attention,
erf-form GELU). Random weights from a fixed seed, so the file is reproducible:
    python3 models/make_tiny_transformer.py
"""
import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN, HEADS, FFN = 64, 4, 256
HEAD_DIM = HIDDEN // HEADS


def main() -> None:
    rng = np.random.default_rng(20261123)
    inits = []

    def weight(name, shape, scale=0.1):
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name))
        return name

    def const(name, values, dtype=np.int64):
        inits.append(numpy_helper.from_array(np.array(values, dtype=dtype), name))
        return name

    nodes = []

    def node(op, inputs, outputs, name, **attrs):
        nodes.append(helper.make_node(op, inputs, outputs, name=name, **attrs))
        return outputs[0]

    x = "x"
    heads_shape = const("heads_shape", [0, 0, HEADS, HEAD_DIM])
    merge_shape = const("merge_shape", [0, 0, HIDDEN])
    scale = const("scale", np.sqrt(HEAD_DIM), np.float32)

    def project(tag):
        h = node("MatMul", [x, weight(f"w_{tag}", (HIDDEN, HIDDEN))], [f"{tag}_mm"], f"attn/{tag}/matmul")
        h = node("Add", [h, weight(f"b_{tag}", (HIDDEN,))], [f"{tag}_bias"], f"attn/{tag}/add")
        h = node("Reshape", [h, heads_shape], [f"{tag}_heads"], f"attn/{tag}/reshape")
        perm = [0, 2, 3, 1] if tag == "k" else [0, 2, 1, 3]
        return node("Transpose", [h], [f"{tag}_t"], f"attn/{tag}/transpose", perm=perm)

    q, k, v = project("q"), project("k"), project("v")
    s = node("MatMul", [q, k], ["scores"], "attn/qk")
    s = node("Div", [s, scale], ["scores_scaled"], "attn/scale")
    p = node("Softmax", [s], ["probs"], "attn/softmax", axis=-1)
    c = node("MatMul", [p, v], ["context"], "attn/pv")
    c = node("Transpose", [c], ["context_t"], "attn/merge/transpose", perm=[0, 2, 1, 3])
    c = node("Reshape", [c, merge_shape], ["context_m"], "attn/merge/reshape")
    o = node("MatMul", [c, weight("w_o", (HIDDEN, HIDDEN))], ["attn_out"], "attn/out/matmul")
    o = node("Add", [o, weight("b_o", (HIDDEN,))], ["attn_out_b"], "attn/out/add")
    h = node("Add", [o, x], ["res1"], "attn/residual")
    ln_ones = numpy_helper.from_array(np.ones(HIDDEN, np.float32), "ln1_g")
    inits.append(ln_ones)
    h = node("LayerNormalization", [h, "ln1_g", weight("ln1_b", (HIDDEN,))], ["ln1"], "ln1", axis=-1, epsilon=1e-5)
    f = node("MatMul", [h, weight("w_fc1", (HIDDEN, FFN))], ["fc1"], "mlp/fc1/matmul")
    f = node("Add", [f, weight("b_fc1", (FFN,))], ["fc1_b"], "mlp/fc1/add")
    # GELU, erf form: 0.5 * f * (1 + erf(f / sqrt(2)))
    g = node("Div", [f, const("sqrt2", np.sqrt(2.0), np.float32)], ["gelu_div"], "mlp/gelu/div")
    g = node("Erf", [g], ["gelu_erf"], "mlp/gelu/erf")
    g = node("Add", [g, const("one", 1.0, np.float32)], ["gelu_add"], "mlp/gelu/add")
    g = node("Mul", [f, g], ["gelu_mul"], "mlp/gelu/mul")
    g = node("Mul", [g, const("half", 0.5, np.float32)], ["gelu"], "mlp/gelu/half")
    f = node("MatMul", [g, weight("w_fc2", (FFN, HIDDEN))], ["fc2"], "mlp/fc2/matmul")
    f = node("Add", [f, weight("b_fc2", (HIDDEN,))], ["fc2_b"], "mlp/fc2/add")
    f = node("Add", [f, h], ["res2"], "mlp/residual")
    inits.append(numpy_helper.from_array(np.ones(HIDDEN, np.float32), "ln2_g"))
    node("LayerNormalization", [f, "ln2_g", weight("ln2_b", (HIDDEN,))], ["y"], "ln2", axis=-1, epsilon=1e-5)

    graph = helper.make_graph(
        nodes, "tiny_transformer",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", HIDDEN])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", HIDDEN])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="fusionrt-models")
    model.ir_version = 8
    onnx.checker.check_model(model)
    out = pathlib.Path(__file__).with_name("tiny_transformer.onnx")
    onnx.save(model, out)
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
