#!/usr/bin/env bash
# Configures and builds FusionRT into build/ (Release). Assumes scripts/setup.sh ran.
# Environment: BUILD_DIR (default build), BUILD_TYPE (default Release),
# CMAKE_ARGS (extra configure flags, e.g. -DFRT_TSAN=ON), BUILD_TARGET (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
