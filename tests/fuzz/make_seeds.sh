#!/usr/bin/env bash
# Writes the seed corpora of the three fuzzers (docs/security.md):
#   OUT/onnx     the bundled model and the small ONNX models of libonnx-testdata
#   OUT/engine   engines built from some of those with `fusionrt build`
#   OUT/binding  a few deterministic pseudo-random call sequences
# Usage: tests/fuzz/make_seeds.sh FUSIONRT_BINARY OUT_DIR
# Models that the CLI cannot build are skipped: the corpus needs variety, not all of them.
set -euo pipefail
cli=${1:?usage: make_seeds.sh FUSIONRT_BINARY OUT_DIR}
out=${2:?usage: make_seeds.sh FUSIONRT_BINARY OUT_DIR}
cd "$(dirname "$0")/../.."
testdata=/usr/share/libonnx-testdata/data/node
mkdir -p "$out/onnx" "$out/engine" "$out/binding"

cp models/tiny_transformer.onnx "$out/onnx/tiny_transformer.onnx"
# Every model under 4 KiB (about 900 of them: one or a few ops each, all opsets).
if [ -d "$testdata" ]; then
  find "$testdata" -name model.onnx -size -4k | sort | while read -r m; do
    cp "$m" "$out/onnx/$(basename "$(dirname "$m")").onnx"
  done
fi

"$cli" build --onnx models/tiny_transformer.onnx --min-shapes x:1x1x64 --opt-shapes x:1x4x64 \
  --max-shapes x:2x8x64 --save-engine "$out/engine/tiny_transformer.engine" >/dev/null 2>&1
# Static-shape single-op models: a spread of op families, attributes and dtypes.
for t in test_relu test_add test_matmul_2d test_gather_0 test_reshape_reordered_all_dims \
         test_softmax_axis_1 test_conv_with_strides_padding test_cast_FLOAT_to_FLOAT16 \
         test_if test_loop11 test_where_example test_layer_normalization_2d_axis0 \
         test_transpose_default test_concat_2d_axis_0 test_reduce_sum_keepdims_example; do
  [ -f "$testdata/$t/model.onnx" ] || continue
  "$cli" build --onnx "$testdata/$t/model.onnx" --save-engine "$out/engine/$t.engine" \
    >/dev/null 2>&1 || true
done

# Binding seeds: any bytes are valid call sequences; these give the fuzzer a start.
for i in 1 2 3 4 5 6 7 8; do
  python3 -c "import random,sys; r=random.Random($i); \
sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(64 * $i)))" >"$out/binding/seed$i"
done
echo "seeds: $(ls "$out/onnx" | wc -l) onnx, $(ls "$out/engine" | wc -l) engine," \
  "$(ls "$out/binding" | wc -l) binding"
