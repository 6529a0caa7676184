#!/usr/bin/env bash
# The main job on the bundled default model (models/tiny_transformer.onnx, one
# BERT-style encoder layer with dynamic batch and seq): install, build
# FusionRT, then build an engine with an optimization profile, save it, load
# it, run it on random inputs (outputs and timings), and benchmark it.
# GPU when the build has a CUDA backend and a GPU is present, CPU otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh >/dev/null
ENGINE=build/tiny_transformer.engine
echo
echo "== fusionrt build =="
./build/fusionrt build --onnx models/tiny_transformer.onnx --save-engine "$ENGINE" \
  --min-shapes x:1x1x64 --opt-shapes x:2x16x64 --max-shapes x:8x128x64
echo
echo "== fusionrt run (loads the engine file) =="
./build/fusionrt run --engine "$ENGINE" --shapes x:2x16x64 --iterations 10
echo
echo "== fusionrt bench =="
./build/fusionrt bench --engine "$ENGINE" --shapes x:2x16x64 --duration 1 --iterations 20 "$@"
