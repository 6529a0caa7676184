// The optimizer's pass manager: an ordered registry of graph-to-graph passes
// and RunPasses, which runs those enabled at an optimization level.
//
// A pass (design.md convention 4) rewrites a Graph in place and returns a
// Status; it may leave value shapes stale, because RunPasses re-runs shape
// inference after each pass. Passes work on the top-level graph only; they
// leave If/Loop/Scan bodies as they are. Each pass lives in its own file and
// is listed once in pass_manager.cc.
//
// Thread safety: the registry is immutable; RunPasses mutates only `graph`.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace frt {

struct Pass {
  const char* name;
  Status (*run)(Graph&);
  int min_level;  // the pass runs when optimization_level >= min_level
};

// Every pass, in the order RunPasses applies them.
const std::vector<Pass>& RegisteredPasses();

// Runs each registered pass whose min_level <= optimization_level, in order;
// after each, re-infers shapes and, when verify_each, runs VerifyGraph (a
// failure there is a pass bug, reported with the pass name). Logs one line per
// pass through `log` (may be empty): "pass <name>: <n> -> <m> nodes (<t> ms)".
// Precondition: `graph` verifies and its shapes are inferred. On error the
// graph may be partly rewritten.
Status RunPasses(Graph& graph, int optimization_level,
                 const std::function<void(const std::string&)>& log, bool verify_each);

// The passes, one per file (also callable alone, e.g. in tests).
Status FoldConstants(Graph& graph);
Status EliminateDeadCode(Graph& graph);
Status EliminateIdentity(Graph& graph);
Status EliminateCommonSubexpressions(Graph& graph);
// Shape and layout (fold_shape_graph.cc, simplify_layout.cc).
Status FoldShapeGraph(Graph& graph);
Status SimplifyLayout(Graph& graph);
// Pattern recognition and fusion (docs/fused_ops.md).
Status RecognizeActivations(Graph& graph);   // erf/tanh GELU, SiLU, Mish -> one op
Status FuseNormalization(Graph& graph);      // decomposed LayerNorm / RMSNorm -> one op
Status FoldBatchNorm(Graph& graph);          // Conv (+bias) + BatchNormalization -> Conv
Status FuseAttention(Graph& graph);          // scaled-dot-product pattern -> MultiHeadAttention
Status FuseSoftmax(Graph& graph);            // Softmax(scale * x + mask) -> FusedSoftmax
Status FuseConvEpilogue(Graph& graph);       // Conv + bias + activation + residual -> FusedConv
Status FuseGemmEpilogue(Graph& graph);       // MatMul/Gemm + bias + act + residual -> FusedMatMul
Status FuseQkv(Graph& graph);                // Q, K, V projections -> one packed GEMM
Status FuseElementwise(Graph& graph);        // pointwise chains/trees -> FusedPointwise

}  // namespace frt
