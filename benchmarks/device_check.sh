#!/usr/bin/env bash
# One call on a GPU machine (docs/cuda.md): the CUDA conformance tests, then the zoo benchmark.
# Expects the binaries and their non-CUDA libraries in .devlib/ (fusionrt, fusionrt_tests,
# libprotobuf, libonnx_proto), built on a machine with the same toolchain.
#   [SKIP_GTEST=1] bash benchmarks/device_check.sh "<cases>" [extra gpu_zoo.py flags]
set -uo pipefail
cd "$(dirname "$0")/.."
export LD_LIBRARY_PATH=$PWD/.devlib:${LD_LIBRARY_PATH:-}
OUT=${OUT:-/tmp/frt_out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
if [ -z "${SKIP_GTEST:-}" ]; then
  .devlib/fusionrt_tests --gtest_filter='Cuda*' >"$OUT/gtest.txt" 2>&1
  echo "gtest exit $?"
  grep -E "^\[  (FAILED|PASSED) |tests ran|passed|failed" "$OUT/gtest.txt" | tail -25
fi
cases=${1:-bert-base:1:128}
shift || true
PYTHONUNBUFFERED=1 python3 benchmarks/gpu_zoo.py --fusionrt .devlib/fusionrt --cases "$cases" \
  --json "$OUT/bench.json" --work /tmp/frt_bench "$@" 2>&1 | tail -30
cp /tmp/frt_bench/log.txt "$OUT/bench_log.txt" 2>/dev/null
tail -c 3000 "$OUT/bench_log.txt"
