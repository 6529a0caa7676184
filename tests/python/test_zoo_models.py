"""The model zoo (tests/models/tiny: BERT, GPT-2, T5 encoder, ViT, ResNet-50, MobileNetV2 exported
from PyTorch by tests/models/export_zoo.py) through the Python API on the CPU backend.

Each model is built unoptimized (level 0) and optimized (level 3, the default) with a profile whose
batch (and sequence) dimensions are dynamic, run on the exported reference inputs, and compared:
- with PyTorch's float32 outputs, by relative L2 error against the manifest's tolerance
  (1e-4: both sides compute in float32 with different summation orders, which gives ~1e-6
  over these few layers, while a wrong fusion gives 1e-2 and more);
- with onnxruntime on the same ONNX file (rtol 1e-4, atol 1e-5, as in test_python_api.py);
- optimized against unoptimized: float32 rounding only (relative L2 <= 1e-5).
"""
import json
import pathlib
import re

import numpy as np
import onnx
import onnxruntime as ort
import pytest

ZOO = pathlib.Path(__file__).resolve().parents[1] / "models" / "tiny"
MANIFEST = json.loads((ZOO / "manifest.json").read_text())
MODELS = sorted(MANIFEST["models"])


def rel_l2(got, want):
    return float(np.linalg.norm(got.astype(np.float64) - want) / np.linalg.norm(want))


def reference(name):
    data = np.load(ZOO / MANIFEST["models"][name]["reference"])
    feeds = {k[3:]: data[k] for k in data.files if k.startswith("in.")}
    outputs = {k[4:]: data[k] for k in data.files if k.startswith("out.")}
    return feeds, outputs


def profile_for(name, feeds):
    """min/opt/max shapes: every dynamic axis from 1 to twice the reference size."""
    inputs = MANIFEST["models"][name]["inputs"]
    profile = {}
    for k, a in feeds.items():
        dynamic = {int(axis) for axis in inputs[k]["dynamic"]}
        lo = tuple(1 if i in dynamic else d for i, d in enumerate(a.shape))
        hi = tuple(2 * d if i in dynamic else d for i, d in enumerate(a.shape))
        profile[k] = (lo, a.shape, hi)
    return profile


@pytest.fixture(scope="module")
def engines(frt):
    cache = {}

    def get(name, level):
        if (name, level) not in cache:
            feeds, _ = reference(name)
            cache[name, level] = frt.build(ZOO / MANIFEST["models"][name]["file"],
                                           profiles=profile_for(name, feeds),
                                           optimization_level=level)
        return cache[name, level]

    return get


@pytest.mark.parametrize("level", [0, 3])
@pytest.mark.parametrize("name", MODELS)
def test_zoo_matches_pytorch_and_onnxruntime(engines, name, level):
    feeds, want = reference(name)
    got = engines(name, level).create_context().run(feeds)
    tol = MANIFEST["models"][name]["tolerance_rel_l2"]
    for k, ref in want.items():
        assert got[k].shape == ref.shape, k
        assert rel_l2(got[k], ref) <= tol, (k, rel_l2(got[k], ref))
    sess = ort.InferenceSession(str(ZOO / MANIFEST["models"][name]["file"]),
                                providers=["CPUExecutionProvider"])
    for out, ort_value in zip(sess.get_outputs(), sess.run(None, feeds)):
        np.testing.assert_allclose(got[out.name], ort_value, rtol=1e-4, atol=1e-5,
                                   err_msg=f"{name} {out.name}")


@pytest.mark.parametrize("name", MODELS)
def test_zoo_optimized_equals_unoptimized_on_fresh_inputs(engines, name):
    feeds, _ = reference(name)
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    fresh = {}
    for k, a in feeds.items():
        if a.dtype == np.float32:
            fresh[k] = rng.standard_normal(a.shape).astype(np.float32)
        elif k == "input_ids":
            fresh[k] = rng.integers(0, 512, a.shape).astype(a.dtype)
        else:
            fresh[k] = a  # masks and token types keep their exported meaning
    base = engines(name, 0).create_context().run(fresh)
    opt = engines(name, 3).create_context().run(fresh)
    for k in base:
        assert rel_l2(opt[k], base[k]) <= 1e-5, (k, rel_l2(opt[k], base[k]))


# Issue 5's acceptance on the exported models: what the optimizer leaves as executed layers.
# Layers of tactic "host.shape" only compute shape values on the host when input shapes are set.
LAYER_RE = re.compile(r"/(?:layer|layers|block)\.(\d+)/")


def executed(engine):
    return [layer for layer in engine.layers if layer.tactic != "host.shape"]


def per_transformer_layer(engine):
    """Executed layers per encoder layer index, from the ONNX node names each layer computes
    (TorchScript exports name nodes by module path: /model/encoder/layer.3/...)."""
    counts = {}
    for layer in executed(engine):
        for index in {int(m) for s in layer.source_nodes for m in LAYER_RE.findall(s)}:
            counts.setdefault(index, []).append(layer.op)
    return counts


def inspect_json(fusionrt, name):
    info = MANIFEST["models"][name]
    feeds, _ = reference(name)
    shapes = ",".join(f"{k}:" + "x".join(map(str, a.shape)) for k, a in feeds.items())
    result = fusionrt("inspect", "--onnx", ZOO / info["file"], "--shapes", shapes, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", ["bert", "gpt2", "t5enc", "vit"])
def test_no_shape_arithmetic_is_executed(fusionrt, name):
    """Shape/Gather/Concat chains that compute shapes are folded into constants or run on the
    host (host.shape); executed Gather/Concat layers move data (embeddings, masks, ViT's class
    token), never integer shape tensors."""
    for layer in inspect_json(fusionrt, name)["layers"]:
        if layer["tactic"] == "host.shape":
            continue
        assert layer["op"] not in ("Shape", "Size", "Range"), layer["name"]
        for out in layer["outputs"]:
            assert out["dtype"] not in ("i64", "i32"), (layer["name"], layer["op"])


@pytest.mark.parametrize("name,fused_ops", [
    ("bert", {"MultiHeadAttention": 2, "LayerNormalization": 5}),
    ("vit", {"MultiHeadAttention": 2, "LayerNormalization": 5}),
    ("t5enc", {"MultiHeadAttention": 2, "RMSNormalization": 5}),
])
def test_transformer_layers_fuse_to_at_most_eight_ops(engines, name, fused_ops):
    engine = engines(name, 3)
    layers = per_transformer_layer(engine)
    assert sorted(layers) == [0, 1], layers
    for index, ops in layers.items():
        # e.g. QKV GEMM+bias, attention, output GEMM+bias+residual, norm, FFN GEMM+bias+GELU,
        # FFN GEMM+bias+residual, norm (the attention-mask select shared by all layers is
        # attributed to layer 0).
        assert len(ops) <= 8, (index, ops)
        assert "MatMul" not in ops and "Softmax" not in ops and "Transpose" not in ops, ops
    ops = [layer.op for layer in executed(engine)]
    for op, count in fused_ops.items():
        assert ops.count(op) == count, (op, ops)


def test_gpt2_fuses_like_the_encoders(engines):
    # The dynamo exporter names nodes without module paths: count the whole model instead.
    # 2 layers x (LN, QKV GEMM, attention, output GEMM+residual, LN, FFN GEMM+GELU,
    # FFN GEMM+residual) + embedding gather, position add, final LN.
    ops = [layer.op for layer in executed(engines("gpt2", 3))]
    assert len(ops) <= 2 * 8 + 3, ops
    assert ops.count("MultiHeadAttention") == 2 and "Softmax" not in ops, ops


@pytest.mark.parametrize("name", ["resnet50", "mobilenetv2"])
def test_convolutions_run_one_op_each(engines, name):
    model = onnx.load(str(ZOO / MANIFEST["models"][name]["file"]))
    convs = sum(1 for n in model.graph.node if n.op_type == "Conv")
    ops = [layer.op for layer in executed(engines(name, 3))]
    assert ops.count("Conv") + ops.count("FusedConv") == convs, ops
    for folded in ("BatchNormalization", "Relu", "Clip", "Add"):
        assert folded not in ops, (folded, ops)


def test_inspect_json_lists_fused_layers(fusionrt):
    report = inspect_json(fusionrt, "bert")
    summary = report["summary"]
    assert summary["executed"] + summary["host_shape"] == len(report["layers"])
    assert summary["executed_by_op"]["MultiHeadAttention"] == 2
    mha = next(layer for layer in report["layers"] if layer["op"] == "MultiHeadAttention")
    # Provenance: the attention layer names the exported nodes it replaced.
    assert any(s.endswith("/Softmax") for s in mha["source_nodes"]), mha["source_nodes"]
    assert len(mha["source_nodes"]) >= 8
