#!/usr/bin/env bash
# The whole test suite: installs, builds, then runs the C++ unit tests, the
# ONNX conformance suite and the Python tests. Ends with one line
# "N passed, N failed, N skipped" summed over all of them; exit 0 iff all pass.
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh || exit 1
./scripts/build.sh || { echo "0 passed, 1 failed"; exit 1; }

LOG_DIR=$(mktemp -d)
status=0
run_stage() {  # name, command...
  local name=$1; shift
  echo "== $name =="
  "$@" 2>&1 | tee "$LOG_DIR/$name.log"
  local rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || status=1
  echo
}

run_stage unit ./build/tests/fusionrt_tests
run_stage conformance ./build/tests/onnx_conformance --quiet --engine
run_stage python .venv/bin/python -m pytest -q tests/python
# ThreadSanitizer build of the concurrency tests (many contexts over one engine).
tsan_tests() {
  BUILD_DIR=build-tsan BUILD_TYPE=RelWithDebInfo CMAKE_ARGS=-DFRT_TSAN=ON \
    BUILD_TARGET=fusionrt_tests ./scripts/build.sh >/dev/null || { echo "0 passed, 1 failed"; return 1; }
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    ./build-tsan/tests/fusionrt_tests --gtest_filter='*Thread*:*Concurren*'
}
run_stage tsan tsan_tests

# Sum the counts each stage reported.
passed=0; failed=0; skipped=0
for f in "$LOG_DIR"/*.log; do
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$f" | tail -n 1)
  if [ -z "$line" ]; then  # pytest's summary: "== 3 passed, 1 skipped in 0.2s =="
    line=$(grep -E '[0-9]+ (passed|failed|error)' "$f" | tail -n 1)
  fi
  p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || true)
  fl=$(grep -oE '[0-9]+ (failed|errors?)' <<<"$line" | awk '{s += $1} END {print s + 0}')
  s=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+' || true)
  passed=$((passed + ${p:-0})); failed=$((failed + ${fl:-0})); skipped=$((skipped + ${s:-0}))
  if [ -z "$line" ]; then failed=$((failed + 1)); echo "stage $(basename "$f" .log) reported no counts"; fi
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
rm -rf "$LOG_DIR"
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
