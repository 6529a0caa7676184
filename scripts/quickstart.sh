#!/usr/bin/env bash
# The main job on the bundled default model: install, build, then run the
# tiny transformer encoder layer (models/tiny_transformer.onnx) with random
# inputs and print its outputs and timings.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh >/dev/null
echo
echo "== fusionrt run (reference CPU backend; GPU execution arrives with the CUDA backend) =="
./build/fusionrt run --onnx models/tiny_transformer.onnx --shapes x:2x16x64 --iterations 10 "$@"
