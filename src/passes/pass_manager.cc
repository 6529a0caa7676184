// The pass registry and the loop that runs it: each enabled pass, then shape
// inference (passes may leave shapes stale), then optionally the verifier.
#include "passes/pass_manager.h"

#include <chrono>
#include <sstream>

#include "ir/shape_inference.h"
#include "ir/verifier.h"

namespace frt {

const std::vector<Pass>& RegisteredPasses() {
  // Folding first creates constants the later passes see; identity removal
  // before CSE lets copies of one value compare equal. Shape-graph folding and
  // layout simplification then expose the plain op patterns the fusions
  // match: activations and norms are recognized first (so epilogue fusion
  // can absorb a Gelu), attention before the GEMM epilogues (it matches the
  // bare MatMul/Add projections), QKV packing after them (it merges
  // FusedMatMuls), and the pointwise-chain fusion last takes what no other
  // fusion claimed. Dead code goes last and sweeps what the others left.
  static const std::vector<Pass> passes = {
      {"fold_constants", FoldConstants, 1},
      {"eliminate_identity", EliminateIdentity, 1},
      {"eliminate_common_subexpressions", EliminateCommonSubexpressions, 1},
      {"eliminate_dead_code", EliminateDeadCode, 1},
      {"fold_shape_graph", FoldShapeGraph, 1},
      {"simplify_layout", SimplifyLayout, 1},
      {"recognize_activations", RecognizeActivations, 1},
      {"fuse_normalization", FuseNormalization, 1},
      {"fold_batch_norm", FoldBatchNorm, 1},
      {"fuse_attention", FuseAttention, 1},
      {"simplify_layout", SimplifyLayout, 1},  // again: attention freed flatten/Gemm pairs
      {"fuse_softmax", FuseSoftmax, 1},        // softmaxes outside attention
      {"fuse_conv_epilogue", FuseConvEpilogue, 1},
      {"fuse_gemm_epilogue", FuseGemmEpilogue, 1},
      {"fuse_qkv", FuseQkv, 1},
      {"fuse_elementwise", FuseElementwise, 1},
      {"eliminate_dead_code", EliminateDeadCode, 1},
  };
  return passes;
}

Status RunPasses(Graph& graph, int optimization_level,
                 const std::function<void(const std::string&)>& log, bool verify_each) {
  using Clock = std::chrono::steady_clock;
  for (const Pass& pass : RegisteredPasses()) {
    if (pass.min_level > optimization_level) continue;
    size_t before = graph.num_nodes();
    auto start = Clock::now();
    Status s = pass.run(graph);
    if (!s.ok()) return s.WithPrefix(StrCat("pass ", pass.name));
    s = InferGraphShapes(graph);
    if (!s.ok()) return s.WithPrefix(StrCat("shape inference after pass ", pass.name));
    if (verify_each) {
      s = VerifyGraph(graph);
      if (!s.ok()) return s.WithPrefix(StrCat("IR verifier after pass ", pass.name));
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (log) {
      std::ostringstream t;
      t.precision(3);
      t << ms;
      log(StrCat("pass ", pass.name, ": ", before, " -> ", graph.num_nodes(), " nodes (", t.str(),
                 " ms)"));
    }
  }
  return Status::Ok();
}

}  // namespace frt
