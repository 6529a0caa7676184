#!/usr/bin/env bash
# Installs everything FusionRT needs to build and test on Debian 12: the apt
# packages below and a Python virtual environment in .venv with the test
# peers (onnx, onnxruntime, numpy, pytest). Idempotent: installs only what is
# missing, so a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config
  libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata
  libcli11-dev nlohmann-json3-dev libgtest-dev libflatbuffers-dev flatbuffers-compiler
  python3 python3-venv python3-pip python3-dev pybind11-dev libdlpack-dev
  clang libfuzzer-14-dev
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import onnx, onnxruntime, numpy, pytest" >/dev/null 2>&1; then
  echo "setup: installing Python test dependencies into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
fi
