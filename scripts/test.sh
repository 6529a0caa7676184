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
# One clang build instrumented with ASan+UBSan (and libFuzzer coverage) serves
# two stages: the whole unit suite under the sanitizers (hostile-input handling
# must not read or write out of bounds anywhere, not only where the fuzzers
# reach), then the libFuzzer harnesses (tests/fuzz): 60 s of each on its seed
# corpus, the three side by side (docs/security.md). A crash, sanitizer report,
# leak or 10 s input fails that fuzzer, prints its log tail and leaves the
# reproducer in build-fuzz/findings/.
instrumented_build() {
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Release -DFRT_FUZZ=ON \
    -DFRT_BUILD_TESTS=ON >/dev/null &&
    cmake --build build-fuzz -j"$(nproc)" --target fusionrt_tests fuzz_onnx_import \
      fuzz_engine_load fuzz_input_binding >/dev/null
}
asan_tests() {
  instrumented_build || { echo "0 passed, 1 failed"; return 1; }
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1" \
    ./build-fuzz/tests/fusionrt_tests
}
run_stage asan asan_tests
fuzz_tests() {
  [ -x build-fuzz/tests/fuzz/fuzz_input_binding ] || { echo "0 passed, 3 failed"; return 1; }
  rm -rf build-fuzz/corpus build-fuzz/findings && mkdir -p build-fuzz/findings
  tests/fuzz/make_seeds.sh ./build/fusionrt build-fuzz/corpus ||
    { echo "0 passed, 3 failed"; return 1; }
  local names=(onnx_import engine_load input_binding) corpora=(onnx engine binding)
  local dicts=(onnx.dict engine.dict "") pids=() pass=0 fail=0 i
  for i in 0 1 2; do
    mkdir -p "build-fuzz/work_${names[i]}"
    ./build-fuzz/tests/fuzz/fuzz_"${names[i]}" -max_total_time=60 -timeout=10 -rss_limit_mb=2048 \
      ${dicts[i]:+-dict=tests/fuzz/${dicts[i]}} \
      -artifact_prefix="build-fuzz/findings/${names[i]}-" \
      -print_final_stats=1 "build-fuzz/work_${names[i]}" "build-fuzz/corpus/${corpora[i]}" \
      >"build-fuzz/findings/${names[i]}.log" 2>&1 &
    pids+=($!)
  done
  for i in 0 1 2; do
    local log="build-fuzz/findings/${names[i]}.log"
    if wait "${pids[i]}"; then
      pass=$((pass + 1))
      echo "fuzz_${names[i]}: ok," \
        "$(awk '/stat::number_of_executed_units/ {print $2}' "$log") executions"
    else
      fail=$((fail + 1)); echo "fuzz_${names[i]}: FAILED"; tail -n 40 "$log"
    fi
  done
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
run_stage fuzz fuzz_tests

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
