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
  // before CSE lets copies of one value compare equal; dead code goes last
  // and sweeps what the others left behind.
  static const std::vector<Pass> passes = {
      {"fold_constants", FoldConstants, 1},
      {"eliminate_identity", EliminateIdentity, 1},
      {"eliminate_common_subexpressions", EliminateCommonSubexpressions, 1},
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
