"""The fusionrt Python package: build/run round trips, numpy in and out, DLPack zero-copy on the
CPU, results against onnxruntime, and error cases.

Tolerance against onnxruntime (rtol 1e-4, atol 1e-5): onnxruntime computes in float32 with its
own accumulation order, FusionRT's CPU kernels accumulate in double and round once; for the
K <= 256 dot products and LayerNorms of the tiny transformer the float32 error is about
K * 2^-24 relative, far below these bounds, while a wrong kernel or binding is far above them.
"""
import pathlib
import re
import threading

import numpy as np
import onnxruntime as ort
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "tiny_transformer.onnx"
RTOL, ATOL = 1e-4, 1e-5
PROFILE = {"x": ((1, 1, 64), (2, 8, 64), (4, 32, 64))}


@pytest.fixture(scope="module")
def engine(frt):
    return frt.build(MODEL, profiles=PROFILE)


def reference(x):
    sess = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


def random_x(seed, batch, seq):
    return np.random.default_rng(seed).standard_normal((batch, seq, 64)).astype(np.float32)


@pytest.mark.parametrize("batch,seq", [(1, 1), (2, 7), (4, 32)])
def test_run_matches_onnxruntime(engine, batch, seq):
    x = random_x(batch * 1000 + seq, batch, seq)
    out = engine.create_context().run({"x": x})
    assert list(out) == ["y"]
    y = out["y"]
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape == (batch, seq, 64)
    np.testing.assert_allclose(y, reference(x), rtol=RTOL, atol=ATOL)


def test_build_from_bytes_and_context_reuse(frt):
    engine = frt.build(MODEL.read_bytes(), profiles=[PROFILE])
    ctx = engine.create_context()
    for seed, (batch, seq) in enumerate([(3, 5), (1, 30), (3, 5)]):
        x = random_x(seed, batch, seq)
        np.testing.assert_allclose(ctx.run({"x": x})["y"], reference(x), rtol=RTOL, atol=ATOL)


def test_metadata(engine):
    (x,), (y,) = engine.inputs, engine.outputs
    assert (x.name, x.dtype, x.shape, x.is_input) == ("x", "float32", (-1, -1, 64), True)
    assert (y.name, y.dtype, y.shape, y.is_input) == ("y", "float32", (-1, -1, 64), False)
    assert x.dim_names[:2] == ("batch", "seq")
    assert engine.num_profiles == 1
    assert engine.profile_shapes(0, "x") == PROFILE["x"]
    assert engine.backend == "cpu"
    ops = {layer.op for layer in engine.layers}
    # The optimizer fuses the layer: projections into GEMMs, attention into one op; every layer
    # names the ONNX nodes it computes.
    assert {"FusedMatMul", "MultiHeadAttention"} <= ops
    assert all(layer.tactic and layer.source_nodes for layer in engine.layers)
    plan = engine.memory_plan(0)
    assert 0 < plan["arena_size"] <= plan["naive_size"]
    assert engine.weights_size > 0
    ctx = engine.create_context()
    ctx.set_input_shape("x", [2, 3, 64])
    assert ctx.get_tensor_shape("y") == (2, 3, 64)


def test_save_load_round_trip(frt, engine, tmp_path):
    path = tmp_path / "tiny.engine"
    engine.save(str(path))
    loaded = frt.load(path)
    from_bytes = frt.Engine.deserialize(engine.serialize())
    x = random_x(7, 3, 11)
    want = engine.create_context().run({"x": x})["y"]
    for other in (loaded, from_bytes):
        assert [t.shape for t in other.inputs] == [t.shape for t in engine.inputs]
        np.testing.assert_array_equal(other.create_context().run({"x": x})["y"], want)
    assert path.read_bytes() == engine.serialize()


def test_out_of_profile_is_out_of_range(frt, engine):
    ctx = engine.create_context()
    with pytest.raises(frt.OutOfRangeError) as info:
        ctx.run({"x": np.zeros((8, 5, 64), np.float32)})
    e = info.value
    assert isinstance(e, frt.FusionRTError) and isinstance(e, RuntimeError)
    assert e.code == "OutOfRange"
    assert str(e) == ('input "x": shape [8,5,64] is outside optimization profile 0 '
                      '(min [1,1,64], max [4,32,64]): dimension 0 is 8, allowed 1..4')
    # The context still works after the error.
    x = random_x(3, 2, 2)
    np.testing.assert_allclose(ctx.run({"x": x})["y"], reference(x), rtol=RTOL, atol=ATOL)


def test_dlpack_zero_copy_in_and_out(engine):
    ctx = engine.create_context()
    x = random_x(11, 2, 9)
    # The output goes into the middle of a larger buffer: the engine must write exactly there.
    slab = np.zeros((3, 2, 9, 64), np.float32)
    out = slab[1]
    result = ctx.execute({"x": x, "y": out})
    assert result["y"] is out
    assert result["y"].ctypes.data == slab.ctypes.data + slab[0].nbytes
    np.testing.assert_allclose(slab[1], reference(x), rtol=RTOL, atol=ATOL)
    assert not slab[0].any() and not slab[2].any()
    # A raw capsule as input, an unbound output: returned as a numpy array that DLPack consumers
    # view without copying.
    x2 = random_x(12, 1, 4)
    y2 = ctx.execute({"x": x2.__dlpack__()})["y"]
    np.testing.assert_allclose(y2, reference(x2), rtol=RTOL, atol=ATOL)
    view = np.from_dlpack(y2)
    assert view.ctypes.data == y2.ctypes.data
    # The input was read in place: changing it changes the next result.
    x2[0, 0, :] += 1.0
    y3 = ctx.execute({"x": x2})["y"]
    np.testing.assert_allclose(y3, reference(x2), rtol=RTOL, atol=ATOL)


def test_run_input_errors(frt, engine):
    ctx = engine.create_context()
    x = random_x(5, 2, 4)
    with pytest.raises(TypeError,
                       match=r'input "x": dtype float64, but the engine expects float32'):
        ctx.run({"x": x.astype(np.float64)})
    with pytest.raises(ValueError, match=r'input "x" is not C-contiguous'):
        ctx.run({"x": np.ascontiguousarray(x.transpose(1, 0, 2)).transpose(1, 0, 2)})
    with pytest.raises(TypeError, match=r'input "x": expected a numpy.ndarray, got .*list'):
        ctx.run({"x": x.tolist()})
    with pytest.raises(frt.InvalidArgumentError, match=r'input "x" is missing'):
        ctx.run({})
    with pytest.raises(frt.NotFoundError, match=r'"z" is not a tensor of the engine'):
        ctx.run({"x": x, "z": x})
    with pytest.raises(frt.InvalidArgumentError, match=r'"y" is an output'):
        ctx.run({"x": x, "y": x})


def test_execute_errors(frt, engine):
    ctx = engine.create_context()
    x = random_x(6, 2, 4)
    with pytest.raises(ValueError, match=r'output "y": buffer shape \[2,4,63\], but these inputs '
                                         r'give \[2,4,64\]'):
        ctx.execute({"x": x, "y": np.empty((2, 4, 63), np.float32)})
    with pytest.raises(TypeError, match=r'output "y": DLPack dtype .* is float64'):
        ctx.execute({"x": x, "y": np.empty((2, 4, 64), np.float64)})
    with pytest.raises(ValueError, match=r'input "x" is not C-contiguous'):
        ctx.execute({"x": np.ascontiguousarray(x.transpose(1, 0, 2)).transpose(1, 0, 2)})
    with pytest.raises(TypeError, match=r'input "x": expected an object with __dlpack__'):
        ctx.execute({"x": [1.0]})
    capsule = x.__dlpack__()
    ctx.execute({"x": capsule})
    with pytest.raises(TypeError, match=r"capsule can be consumed once"):
        ctx.execute({"x": capsule})


def test_bad_files(frt, tmp_path):
    with pytest.raises(frt.NotFoundError):
        frt.build(tmp_path / "missing.onnx")
    garbage = tmp_path / "garbage.engine"
    garbage.write_bytes(b"not an engine" * 100)
    with pytest.raises(frt.InvalidEngineError, match=re.escape(str(garbage))):
        frt.load(garbage)
    with pytest.raises(frt.InvalidModelError) as info:
        frt.build(b"\x08\x07\x12garbage")
    assert info.value.code == "InvalidModel"
    with pytest.raises(frt.InvalidArgumentError):  # the dynamic input has no profile
        frt.build(MODEL)


def test_hand_built_network_against_numpy(frt):
    rng = np.random.default_rng(21)
    w = rng.standard_normal((16, 8)).astype(np.float32)
    net = frt.Network()
    net.add_input("x", "float32", ["batch", 16])
    net.add_constant("w", w)
    net.add_layer("MatMul", "proj", ["x", "w"], ["h"])
    net.add_layer("Softmax", "sm", ["h"], ["y"], {"axis": -1})
    net.mark_output("y")
    assert net.input_names == ["x"] and net.output_names == ["y"] and net.num_layers == 2
    lines = []
    engine = frt.build(net, profiles={"x": ((1, 16), (4, 16), (8, 16))}, log=lines.append)
    assert lines, "the build log callback received no lines"
    x = rng.standard_normal((5, 16)).astype(np.float32)
    h = x.astype(np.float64) @ w.astype(np.float64)
    want = np.exp(h - h.max(-1, keepdims=True))
    want /= want.sum(-1, keepdims=True)
    np.testing.assert_allclose(engine.create_context().run({"x": x})["y"], want, rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(frt.FusionRTError, match=r"nowhere"):
        net.add_layer("Relu", "r", ["nowhere"], ["z"])


def test_log_callback_error_propagates(frt):
    def log(line):
        raise KeyError("from the log callback")
    with pytest.raises(KeyError, match="from the log callback"):
        frt.build(MODEL, profiles=PROFILE, log=log)


def test_data_dependent_output_shape(frt):
    net = frt.Network()
    net.add_input("x", "float32", ["n"])
    net.add_layer("NonZero", "nz", ["x"], ["idx"])
    net.mark_output("idx")
    engine = frt.build(net, profiles={"x": ((1,), (8,), (32,))})
    ctx = engine.create_context()
    ctx.set_input_shape("x", [10])
    assert -1 in ctx.get_tensor_shape("idx")  # known after execution only
    with pytest.raises(ValueError, match=r'output "idx" has a data-dependent shape'):
        ctx.execute({"x": np.ones(10, np.float32), "idx": np.empty((1, 10), np.int64)})
    rng = np.random.default_rng(4)
    for n in (10, 25, 3):
        x = (rng.random(n) < 0.5).astype(np.float32)
        got = ctx.run({"x": x})["idx"]
        np.testing.assert_array_equal(got, np.array(np.nonzero(x), dtype=np.int64))


def test_two_profiles(frt):
    engine = frt.build(MODEL, profiles=[{"x": ((1, 1, 64), (1, 4, 64), (1, 8, 64))},
                                        {"x": ((2, 8, 64), (4, 16, 64), (6, 40, 64))}])
    assert engine.num_profiles == 2
    ctx = engine.create_context()
    x = random_x(9, 5, 40)
    with pytest.raises(frt.OutOfRangeError, match="profile 0"):
        ctx.run({"x": x})
    ctx.optimization_profile = 1
    assert ctx.optimization_profile == 1
    np.testing.assert_allclose(ctx.run({"x": x})["y"], reference(x), rtol=RTOL, atol=ATOL)
    with pytest.raises(frt.OutOfRangeError, match="profile 2"):
        engine.memory_plan(2)


def test_contexts_in_threads(engine):
    xs = [random_x(100 + i, 1 + i % 4, 3 + i) for i in range(6)]
    results = [None] * len(xs)

    def work(i):
        ctx = engine.create_context()
        for _ in range(3):
            results[i] = ctx.run({"x": xs[i]})["y"]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for x, y in zip(xs, results):
        np.testing.assert_allclose(y, reference(x), rtol=RTOL, atol=ATOL)


def test_docs_example_runs(frt, monkeypatch, capsys):
    """The runnable part of docs/python.md's complete example, as written."""
    text = (ROOT / "docs" / "python.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S)
              if b.startswith("# runnable")]
    assert len(blocks) == 1
    monkeypatch.chdir(ROOT)
    exec(compile(blocks[0], "docs/python.md", "exec"), {"__name__": "docs_example"})
    assert "OutOfRange" in capsys.readouterr().out
