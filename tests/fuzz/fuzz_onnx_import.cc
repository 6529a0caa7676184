// libFuzzer harness for the ONNX importer and the optimizer: bytes ->
// ImportOnnxBytes (protobuf parse, import rules, static shape/type inference)
// -> IR verifier, printer and concrete shape propagation with every dynamic
// input dimension set to 2 -> the optimizer's passes (level 3, the verifier
// after each) -> concrete propagation again on the optimized graph. Any crash,
// sanitizer report, internal error, or verifier error on a graph the importer
// accepted (or a pass produced) is a bug. External data is refused (empty base_dir), so the
// harness never touches the file system.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string_view>

#include "backends/cpu/shape_propagation.h"
#include "core/tensor.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "ir/shape_inference.h"
#include "onnx/importer.h"
#include "passes/pass_manager.h"

namespace {

// Below libFuzzer's default -malloc_limit_mb (2048): the importer must refuse
// anything bigger with kResourceExhausted instead of allocating it.
constexpr size_t kAllocationLimit = size_t{256} << 20;

[[noreturn]] void Fail(const char* what, const frt::Status& s) {
  std::fprintf(stderr, "fuzz_onnx_import: %s: %s\n", what, s.ToString().c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  frt::SetHostAllocationLimit(kAllocationLimit);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  frt::ImportOptions options;
  options.max_model_bytes = size_t{1} << 20;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto graph = frt::ImportOnnxBytes(bytes, /*base_dir=*/"", options);
  if (!graph.ok()) {
    if (graph.status().code() == frt::StatusCode::kInternal) Fail("internal error", graph.status());
    return 0;
  }
  const frt::Graph& g = **graph;
  frt::Status verified = frt::VerifyGraph(g);
  if (!verified.ok()) Fail("the importer accepted a graph the verifier rejects", verified);
  (void)frt::PrintGraph(g);

  // Concrete shapes at small sizes: exercises every op's inference on real dims.
  std::map<std::string, frt::Dims> dims;
  for (const frt::Value* in : g.inputs()) {
    if (!in->shape) return 0;  // unknown rank: nothing to choose
    frt::Dims d;
    for (const frt::Dim& dim : in->shape->dims()) d.push_back(dim.is_static() ? dim.value() : 2);
    dims[in->name] = d;
  }
  auto values = frt::PropagateConcreteShapes(g, dims);
  if (!values.ok() && values.status().code() == frt::StatusCode::kInternal) {
    Fail("internal error in shape propagation", values.status());
  }
  if (!values.ok()) return 0;  // invalid at these sizes: nothing to optimize

  // The optimizer must keep a valid graph valid: a pass error is acceptable
  // only as a clean refusal (never kInternal, never a verifier failure), and
  // the optimized graph must still propagate at the same sizes.
  frt::Graph& mutable_graph = **graph;
  frt::Status optimized = frt::RunPasses(mutable_graph, 3, {}, /*verify_each=*/true);
  if (!optimized.ok()) {
    if (optimized.code() == frt::StatusCode::kInternal ||
        optimized.message().find("IR verifier after pass") != std::string::npos) {
      Fail("optimizer", optimized);
    }
    return 0;
  }
  // The original propagated at these sizes, so the optimized graph must too.
  auto after = frt::PropagateConcreteShapes(mutable_graph, dims);
  if (!after.ok()) Fail("shape propagation after the optimizer", after.status());
  return 0;
}
