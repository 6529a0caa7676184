#!/usr/bin/env python3
"""Python call overhead of the fusionrt package: the time one `context.execute` (DLPack, caller
buffers) and one `context.run` (numpy in, new numpy out) take on an engine that does almost
nothing (y = x + 1 on 4 floats), next to the C++ runtime's own time for the same engine from
`fusionrt bench`. The difference is what Python adds per call (issue 8 asks < 20 us on a GPU
machine; this script runs on the CPU backend too).

  PYTHONPATH=build/python .venv/bin/python benchmarks/python_overhead.py [--fusionrt build/fusionrt]

Prints median microseconds per call over many calls after a warm-up.
"""
import argparse
import json
import os
import platform
import subprocess
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import fusionrt


def tiny_model(path):
    one = numpy_helper.from_array(np.ones(4, np.float32), "one")
    graph = helper.make_graph([helper.make_node("Add", ["x", "one"], ["y"])], "add",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], [one])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def median_us(fn, calls):
    for _ in range(calls // 10):
        fn()
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t0)
    return float(np.median(samples)) / 1000.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fusionrt", default="build/fusionrt")
    ap.add_argument("--calls", type=int, default=20000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "add.onnx")
        tiny_model(model)
        engine = fusionrt.build(model)
        ctx = engine.create_context()
        x = np.arange(4, dtype=np.float32)
        y = np.empty(4, np.float32)
        bindings = {"x": x, "y": y}
        execute_us = median_us(lambda: ctx.execute(bindings), args.calls)
        assert np.array_equal(y, x + 1)
        run_us = median_us(lambda: ctx.run({"x": x}), args.calls)
        bench = subprocess.run([args.fusionrt, "bench", "--onnx", model, "--iterations",
                                str(args.calls), "--duration", "1", "--export-json", os.path.join(tmp, "b.json")],
                               capture_output=True, text=True, check=True)
        report = json.load(open(os.path.join(tmp, "b.json")))
        cpp_us = report["latency_ms"]["median"] * 1000.0
    print(f"{platform.node()} {platform.processor() or platform.machine()}, "
          f"{time.strftime('%Y-%m-%d')}, {args.calls} calls, median per call:")
    print(f"  C++ runtime (fusionrt bench):        {cpp_us:8.2f} us")
    print(f"  context.execute (DLPack, caller out): {execute_us:8.2f} us  "
          f"(+{execute_us - cpp_us:.2f} us over C++)")
    print(f"  context.run (numpy in, numpy out):    {run_us:8.2f} us  "
          f"(+{run_us - cpp_us:.2f} us over C++)")


if __name__ == "__main__":
    main()
