"""FusionRT's reference backend against onnxruntime (CPU, float32) on whole
models: the bundled default model and small exported-style graphs.

Tolerance: onnxruntime computes in float32 with its own accumulation order;
FusionRT's reference kernels accumulate in double and round once. For the
K <= 256 dot products and LayerNorms here the float32 error is ~K * 2^-24
relative, far below rtol 1e-4 / atol 1e-5.
"""
import pathlib

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

ROOT = pathlib.Path(__file__).resolve().parents[2]
RTOL, ATOL = 1e-4, 1e-5


def run_both(fusionrt, model_path, feeds, tmp_path):
    args = ["run", "--onnx", model_path, "--save-outputs", tmp_path / "out"]
    for name, array in feeds.items():
        path = tmp_path / f"{name}.npy"
        np.save(path, array)
        args += ["--input", f"{name}={path}"]
    result = fusionrt(*args)
    assert result.returncode == 0, result.stderr + result.stdout
    sess = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    expected = sess.run(None, feeds)
    for out, want in zip(sess.get_outputs(), expected):
        got = np.load(tmp_path / "out" / f"{out.name}.npy")
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=out.name)
    return result.stdout


@pytest.mark.parametrize("batch,seq", [(1, 8), (3, 17)])
def test_default_model_matches_onnxruntime(fusionrt, tmp_path, batch, seq):
    rng = np.random.default_rng(batch * 100 + seq)
    x = rng.standard_normal((batch, seq, 64)).astype(np.float32)
    stdout = run_both(fusionrt, ROOT / "models" / "tiny_transformer.onnx", {"x": x}, tmp_path)
    assert f'output "y": f32[{batch},{seq},64]' in stdout


def test_default_model_is_reproducible_from_script(tmp_path):
    """The committed model equals what its generator script writes."""
    import runpy, shutil
    script = tmp_path / "make_tiny_transformer.py"
    shutil.copy(ROOT / "models" / "make_tiny_transformer.py", script)
    runpy.run_path(str(script), run_name="__main__")
    assert (tmp_path / "tiny_transformer.onnx").read_bytes() == \
        (ROOT / "models" / "tiny_transformer.onnx").read_bytes()


def test_random_inputs_and_summary(fusionrt):
    result = fusionrt("run", "--onnx", ROOT / "models" / "tiny_transformer.onnx",
                      "--shapes", "x:2x4x64", "--iterations", "3")
    assert result.returncode == 0, result.stderr
    assert 'output "y": f32[2,4,64]' in result.stdout
    assert "3 run(s)" in result.stdout


def test_cli_error_exit_code_and_message(fusionrt, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    result = fusionrt("run", "--onnx", bad)
    assert result.returncode == 1
    assert "bad.onnx" in result.stderr and "error:" in result.stderr
