#!/usr/bin/env python3
"""Runs an exported zoo (export_zoo.py's output folder) through the fusionrt CLI and prints, per
model: ONNX node count, executed layers after optimization, the most executed layers in any one
transformer layer (from the module paths in the ONNX node names), the relative L2 error of
FusionRT's outputs against the exporting framework's, and the build and run times.

  python3 tests/models/check_zoo.py --zoo /tmp/zoo --fusionrt build/fusionrt

Needs numpy only. Exits 1 if a model fails or misses its tolerance.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

LAYER_RE = re.compile(r"/(?:layer|layers|block)\.(\d+)/")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zoo", required=True)
    ap.add_argument("--fusionrt", default="build/fusionrt")
    ap.add_argument("--models", default="")
    ap.add_argument("--level", default="3")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per model run")
    ap.add_argument("--verbose", action="store_true", help="print the executed layers' ops")
    args = ap.parse_args()
    manifest = json.load(open(os.path.join(args.zoo, "manifest.json")))
    names = args.models.split(",") if args.models else list(manifest["models"])
    rows, failed = [], False
    for name in names:
        info = manifest["models"][name]
        data = np.load(os.path.join(args.zoo, info["reference"]))
        model = os.path.join(args.zoo, info["file"])
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [args.fusionrt, "run", "--onnx", model, "--optimization-level", args.level,
                   "--save-outputs", tmp]
            shapes = []
            for k in data.files:
                if k.startswith("in."):
                    path = os.path.join(tmp, k + ".npy")
                    np.save(path, data[k])
                    cmd += ["--input", f"{k[3:]}={path}"]
                    shapes.append(f"{k[3:]}:" + "x".join(map(str, data[k].shape)))
            t0 = time.time()
            try:
                run = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                print(f"{name}: run took over {args.timeout} s", file=sys.stderr)
                failed = True
                continue
            seconds = time.time() - t0
            if run.returncode != 0:
                print(f"{name}: run failed: {run.stderr[-2000:]}", file=sys.stderr)
                failed = True
                continue
            errors = {}
            for k in data.files:
                if k.startswith("out."):
                    got = np.load(os.path.join(tmp, k[4:] + ".npy")).astype(np.float64)
                    want = data[k].astype(np.float64)
                    errors[k[4:]] = float(np.linalg.norm(got - want) / np.linalg.norm(want))
        insp = subprocess.run([args.fusionrt, "inspect", "--onnx", model, "--optimization-level",
                               args.level, "--shapes", ",".join(shapes), "--json"],
                              capture_output=True, text=True)
        if insp.returncode != 0:
            print(f"{name}: inspect failed: {insp.stderr[-2000:]}", file=sys.stderr)
            failed = True
            continue
        report = json.loads(insp.stdout)
        per_layer = {}  # transformer layers only (CNN stage paths look alike)
        attention = "MultiHeadAttention" in report["summary"]["executed_by_op"]
        for layer in report["layers"]:
            if layer["tactic"] == "host.shape" or not attention:
                continue
            for i in {int(m) for s in layer["source_nodes"] for m in LAYER_RE.findall(s)}:
                per_layer[i] = per_layer.get(i, 0) + 1
        if args.verbose:
            ops = [f"{l['op']}({l['outputs'][0]['shape'] if l['outputs'] else ''})"
                   for l in report["layers"] if l["tactic"] != "host.shape"]
            print(f"{name}: " + " ".join(ops))
        worst = max(errors.values()) if errors else float("nan")
        ok = worst <= info["tolerance_rel_l2"]
        failed = failed or not ok
        rows.append((name, info["onnx_nodes"], report["summary"]["executed"],
                     report["summary"]["host_shape"], max(per_layer.values(), default=0),
                     len(per_layer), worst, "ok" if ok else "FAIL", seconds))
    print(f"{'model':12} {'onnx':>6} {'exec':>5} {'host':>5} {'max/layer':>9} {'layers':>6} "
          f"{'rel L2':>9} {'':4} {'run s':>6}")
    for r in rows:
        print(f"{r[0]:12} {r[1]:6} {r[2]:5} {r[3]:5} {r[4]:9} {r[5]:6} {r[6]:9.2e} {r[7]:4} "
              f"{r[8]:6.1f}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
