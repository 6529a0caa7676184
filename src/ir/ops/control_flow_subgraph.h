// Shared by the If/Loop/Scan schemas, their CPU kernels and their import
// rules: how a control-flow node's inputs split into explicit inputs and the
// implicit (outer-scope) inputs the importer appends, static inference of a
// subgraph's outputs, and the contract that a subgraph's declared input and
// output types hold at run time (kernels check it, so inference may rely on it).
#pragma once

#include <optional>
#include <vector>

#include "ir/op_registry.h"

namespace frt {

// Int attribute set by the import rules: the number of trailing node inputs
// that are values the subgraphs read from enclosing scopes. They make the
// reads visible to topological order and to value lifetimes; kernels ignore
// them (the executor resolves outer-scope reads by name).
inline constexpr const char* kImplicitInputsAttr = "implicit_inputs";

// Upper bound on Loop iterations: a Loop that reaches this many iterations
// (M absent or larger, cond still true) fails with kResourceExhausted, so
// that a hostile model cannot run forever.
inline constexpr int64_t kMaxLoopIterations = int64_t{1} << 24;

// Node inputs minus the implicit ones (0 if the attribute is out of range;
// ExplicitInputCount reports that as an error).
size_t NumExplicitInputs(const Node& node);
Result<size_t> ExplicitInputCount(const InferContext& ctx);

// The graph attribute `name`, or kInvalidModel naming the node.
Result<const Graph*> RequireGraph(const InferContext& ctx, const char* name);

// What inference knows about one tensor.
struct TensorInfo {
  DType dtype = DType::kUndefined;
  std::optional<Shape> shape;     // nullopt: rank unknown
  const Tensor* value = nullptr;  // only for subgraph inputs/outer-scope reads
};

// A subgraph value's declared shape with symbolic dims made unknown: a
// subgraph's symbols are local to it and say nothing about the caller's.
std::optional<Shape> DeclaredShape(const Value& v);

// Combines two descriptions of the same tensor: the known one wins where the
// other is unknown. Returns false when they contradict (rank or a static dim).
bool RefineShape(const std::optional<Shape>& a, const std::optional<Shape>& b,
                 std::optional<Shape>* out);
// A shape that covers both (a value that is either a or b): dims that differ
// become unknown, ranks that differ make the rank unknown.
std::optional<Shape> GeneralizeShape(const std::optional<Shape>& a, const std::optional<Shape>& b);

// Infers the dtype and shape of each output of `body` (a subgraph attribute
// of ctx's node) from the infos of its inputs, in the body's input order.
// Outer-scope reads take the info of the node's implicit input of that name.
// Declared output types refine the result; a contradiction is kInvalidModel.
Result<std::vector<TensorInfo>> InferSubgraph(const InferContext& ctx, const Graph& body,
                                              const std::vector<TensorInfo>& inputs);

// True when `t` has the dtype and the rank / static dims that `declared`
// states (undefined dtype or unknown shape accept anything).
bool MatchesDeclared(const Value& declared, const Tensor& t);

// Dims of the iteration_num / cond tensors fed to a Loop body: a scalar, or
// the declared shape when that is a static one-element shape such as [1].
Dims LoopCounterDims(const Value& declared);

// The inference functions, also used by the kernels to size empty outputs.
Status InferIf(InferContext& ctx);
Status InferLoop(InferContext& ctx);
Status InferScan(InferContext& ctx);

}  // namespace frt
