"""The model zoo (tests/models/tiny: BERT, GPT-2, T5 encoder, ViT, ResNet-50, MobileNetV2 exported
from PyTorch by tests/models/export_zoo.py) through the Python API on the CPU backend.

Each model is built unoptimized (level 0) and fully optimized (level 5) with a profile whose
batch (and sequence) dimensions are dynamic, run on the exported reference inputs, and compared:
- with PyTorch's float32 outputs, by relative L2 error against the manifest's tolerance
  (1e-4: both sides compute in float32 with different summation orders, which gives ~1e-6
  over these few layers, while a wrong fusion gives 1e-2 and more);
- with onnxruntime on the same ONNX file (rtol 1e-4, atol 1e-5, as in test_python_api.py);
- optimized against unoptimized: float32 rounding only (relative L2 <= 1e-5).
"""
import json
import pathlib

import numpy as np
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


@pytest.mark.parametrize("level", [0, 5])
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
    opt = engines(name, 5).create_context().run(fresh)
    for k in base:
        assert rel_l2(opt[k], base[k]) <= 1e-5, (k, rel_l2(opt[k], base[k]))
