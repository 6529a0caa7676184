#!/usr/bin/env python3
"""FusionRT vs PyTorch on a GPU: export, build, check, time, side by side.

For each case (model, batch, sequence) this script, in one process on one GPU:
  1. builds the model in PyTorch with random weights (fixed seed; tests/models/export_zoo.py's
     configurations, plus BERT-large) and exports it to ONNX (float32, opset 17, or 18 through the dynamo exporter for GPT-2; dynamic axes);
  2. builds a FusionRT engine with `fusionrt build --fp16` for the case's shapes;
  3. runs the engine on the same inputs as PyTorch (`fusionrt run --input ... --save-outputs`)
     and compares with PyTorch in float16 and float32 (relative L2 error);
  4. times FusionRT (`fusionrt bench`, median latency of the engine's Execute: enqueue + GPU
     work + synchronize, inputs already on the device; once eagerly and once replaying a CUDA
     graph, --use-cuda-graph; the table shows the better), PyTorch eager in float16, and, with
     --compile, torch.compile(mode="max-autotune") in float16 (CUDA events, median of --iters
     runs after warm-up);
and prints one table: times in ms and the speedups of FusionRT over each peer.

  python3 benchmarks/gpu_zoo.py --fusionrt build/fusionrt --cases bert-base:1:128,resnet50:128
  python3 benchmarks/gpu_zoo.py --fusionrt build/fusionrt --compile --json out.json

Cases are name[:batch[:sequence]]; names: bert-base, bert-large, gpt2, vit, resnet50, t5enc,
mobilenetv2. Needs torch, transformers, torchvision, onnx (the GPU machine has them).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "models"))
import export_zoo  # noqa: E402  (model configurations shared with the test zoo)

DEFAULT_CASES = ("bert-base:1:128,bert-base:32:128,bert-large:1:128,bert-large:1:384,"
                 "gpt2:1:128,vit:1,resnet50:1,resnet50:128")


def make_model(torch, name):
    """(model, input names, output names, text?) for a zoo name, full size."""
    if name == "bert-large":
        from transformers import BertConfig, BertModel
        cfg = BertConfig(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                         intermediate_size=4096)
        return BertModel(cfg), ["input_ids", "attention_mask", "token_type_ids"], \
            ["last_hidden_state", "pooler_output"], cfg.vocab_size
    zoo = {"bert-base": "bert", "gpt2": "gpt2", "vit": "vit", "resnet50": "resnet50",
           "t5enc": "t5enc", "mobilenetv2": "mobilenetv2"}[name]
    model, feeds, outputs, _ = export_zoo.MODELS[zoo](torch, "full")
    vocab = getattr(getattr(model, "config", None), "vocab_size", None)
    return model, list(feeds), outputs, vocab


def make_inputs(torch, input_names, batch, seq, vocab, image):
    g = torch.Generator().manual_seed(export_zoo.SEED + 11)
    feeds = {}
    for k in input_names:
        if k == "input_ids":
            feeds[k] = torch.randint(0, vocab, (batch, seq), generator=g)
        elif k == "attention_mask":
            m = torch.ones(batch, seq, dtype=torch.int64)
            if batch > 1:
                m[1, seq - seq // 4:] = 0
            feeds[k] = m
        elif k == "token_type_ids":
            t = torch.zeros(batch, seq, dtype=torch.int64)
            t[:, seq // 2:] = 1
            feeds[k] = t
        elif k == "pixel_values":
            feeds[k] = torch.randn(batch, 3, image, image, generator=g)
    return feeds


def cuda_time_ms(torch, fn, iters, warmup):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return float(np.median(times))


def rel_l2(a, b):
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        return float("inf")
    den = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / (den if den > 0 else 1.0))


def run(cmd, log):
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    log.write("$ " + " ".join(cmd) + f"\n{p.stdout}{p.stderr}\n[{time.time() - t0:.1f} s]\n")
    log.flush()
    if p.returncode != 0:
        raise RuntimeError(f"{os.path.basename(cmd[0])} {cmd[1]} failed: "
                           f"{(p.stderr or p.stdout).strip().splitlines()[-1:]}")
    return p.stdout


def bench_case(torch, args, case, work, log):
    parts = case.split(":")
    name = parts[0]
    batch = int(parts[1]) if len(parts) > 1 else 1
    seq = int(parts[2]) if len(parts) > 2 else 128
    torch.manual_seed(export_zoo.SEED)
    model, input_names, output_names, vocab = make_model(torch, name)
    export_zoo.randomize_vectors(torch, model)
    model.eval()
    image = 224
    feeds = make_inputs(torch, input_names, batch, seq, vocab, image)
    wrapper = export_zoo.OutputsAsTuple(torch, model, input_names, output_names).eval()
    row = {"case": case, "model": name, "batch": batch,
           "seq": seq if "input_ids" in feeds else None}

    onnx_path = os.path.join(work, f"{name}.onnx")
    if not os.path.exists(onnx_path):
        dyn = {k: ({0: "batch", 1: "sequence"} if v.dim() == 2 else {0: "batch"})
               for k, v in feeds.items()}
        for k in output_names:
            dyn[k] = {0: "batch"}
        t0 = time.time()
        with torch.no_grad():
            row["exporter"] = export_zoo.export_onnx(torch, wrapper, tuple(feeds.values()),
                                                     onnx_path, input_names, output_names, dyn,
                                                     label=name)
        row["export_s"] = round(time.time() - t0, 1)

    case_dir = os.path.join(work, case.replace(":", "_"))
    os.makedirs(case_dir, exist_ok=True)
    in_flags, shapes = [], []
    for k, v in feeds.items():
        path = os.path.join(case_dir, f"in_{k}.npy")
        np.save(path, v.numpy())
        in_flags += ["--input", f"{k}={path}"]
        shapes.append(f"{k}:" + "x".join(str(d) for d in v.shape))
    shape_flag = ",".join(shapes)
    engine = os.path.join(case_dir, "model.engine")
    t0 = time.time()
    run([args.fusionrt, "build", "--onnx", onnx_path, "--fp16", "--shapes", shape_flag,
         "--save-engine", engine], log)
    row["build_s"] = round(time.time() - t0, 1)
    out_dir = os.path.join(case_dir, "out")
    run([args.fusionrt, "run", "--engine", engine, *in_flags, "--save-outputs", out_dir], log)
    bench_json = os.path.join(case_dir, "bench.json")
    run([args.fusionrt, "bench", "--engine", engine, "--shapes", shape_flag, "--duration",
         str(args.bench_seconds), "--export-json", bench_json], log)
    with open(bench_json) as f:
        b = json.load(f)
    row["fusionrt_eager_ms"] = b["latency_ms"]["median"]
    row["fusionrt_peak_host_mib"] = round(b.get("peak_host_memory_bytes", 0) / 2**20, 1)
    run([args.fusionrt, "bench", "--engine", engine, "--shapes", shape_flag, "--duration",
         str(args.bench_seconds), "--use-cuda-graph", "--export-json", bench_json], log)
    with open(bench_json) as f:
        b = json.load(f)
    row["fusionrt_graph_ms"] = b["latency_ms"]["median"]
    row["fusionrt_ms"] = min(row["fusionrt_graph_ms"], row["fusionrt_eager_ms"])

    # PyTorch: float32 reference (TF32 off), then float16 eager and compiled.
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    m32 = wrapper.to(dev)
    args32 = tuple(v.to(dev) for v in feeds.values())
    with torch.no_grad():
        ref32 = [t.float().cpu().numpy() for t in m32(*args32)]
    m16 = wrapper.half()
    args16 = tuple(v.to(dev).half() if v.is_floating_point() else v.to(dev) for v in feeds.values())
    with torch.no_grad():
        ref16 = [t.float().cpu().numpy() for t in m16(*args16)]
        torch.cuda.reset_peak_memory_stats()
        row["eager_ms"] = cuda_time_ms(torch, lambda: m16(*args16), args.iters, args.warmup)
        row["eager_peak_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        if args.compile:
            t0 = time.time()
            compiled = torch.compile(m16, mode="max-autotune")
            compiled(*args16)
            row["compile_s"] = round(time.time() - t0, 1)
            row["compile_ms"] = cuda_time_ms(torch, lambda: compiled(*args16), args.iters,
                                             args.warmup)
    errs16, errs32 = [], []
    for k, r16, r32 in zip(output_names, ref16, ref32):
        got = np.load(os.path.join(out_dir, k + ".npy"))
        errs16.append(rel_l2(got, r16))
        errs32.append(rel_l2(got, r32))
    row["err_vs_torch_fp16"] = max(errs16)
    row["err_vs_torch_fp32"] = max(errs32)
    row["torch_fp16_vs_fp32"] = max(rel_l2(a, b) for a, b in zip(ref16, ref32))
    del m16, m32
    torch.cuda.empty_cache()
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fusionrt", required=True, help="path to the fusionrt binary")
    ap.add_argument("--cases", default=DEFAULT_CASES)
    ap.add_argument("--work", default="/tmp/frt_gpu_bench")
    ap.add_argument("--compile", action="store_true", help="also time torch.compile(max-autotune)")
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--bench-seconds", type=float, default=3.0)
    ap.add_argument("--json", help="write the rows here")
    args = ap.parse_args()
    import torch
    os.makedirs(args.work, exist_ok=True)
    device = torch.cuda.get_device_name(0)
    print(f"device: {device}; torch {torch.__version__}; date {time.strftime('%Y-%m-%d')}")
    rows = []
    with open(os.path.join(args.work, "log.txt"), "w") as log:
        for case in args.cases.split(","):
            try:
                row = bench_case(torch, args, case, args.work, log)
            except Exception as e:  # report and go on
                row = {"case": case, "error": f"{type(e).__name__}: {str(e)[:300]}"}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"\n{'case':22} {'FRT graph':>9} {'FRT eager':>9} {'eager':>9} {'compile':>9} {'x eager':>8} "
          f"{'x compile':>9} {'err fp16':>9} {'err fp32':>9}")
    for r in rows:
        if "error" in r:
            print(f"{r['case']:22} ERROR {r['error']}")
            continue
        c, f = r.get("compile_ms"), r["fusionrt_ms"]
        comp = f"{c:9.3f}" if c else f"{'-':>9}"
        x_comp = f"{c / f:9.2f}" if c else f"{'-':>9}"
        print(f"{r['case']:22} {r['fusionrt_graph_ms']:9.3f} {r['fusionrt_eager_ms']:9.3f} "
              f"{r['eager_ms']:9.3f} {comp} {r['eager_ms'] / f:8.2f} "
              f"{x_comp} {r['err_vs_torch_fp16']:9.2e} {r['err_vs_torch_fp32']:9.2e}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": device, "torch": torch.__version__,
                       "date": time.strftime("%Y-%m-%d"), "command": " ".join(sys.argv),
                       "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
