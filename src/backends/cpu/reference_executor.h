// The reference executor: runs a Graph node by node on the CPU with the
// reference kernels. For every node it runs the op's shape inference on the
// concrete input shapes and values, allocates the outputs, calls the kernel
// and checks that the kernel produced what inference promised. It is the
// oracle other backends are compared with, so it is simple, not fast.
//
// Thread safety: Run() is const and may be called from many threads at once.
// The Graph must outlive the executor and stay unchanged.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "backends/cpu/kernel.h"
#include "ir/graph.h"

namespace frt {

class ReferenceExecutor {
 public:
  // Fails if a node has no schema or no CPU kernel, or the graph has a cycle.
  static Result<std::unique_ptr<ReferenceExecutor>> Create(const Graph& graph);

  // `inputs` by graph-input name. Inputs that have an initializer may be
  // omitted. Returns the graph outputs in order.
  Result<std::vector<Tensor>> Run(const std::map<std::string, Tensor>& inputs) const;

 private:
  explicit ReferenceExecutor(const Graph& graph) : graph_(graph) {}
  const Graph& graph_;
};

// Where a node's outputs go. Called for each output whose shape is known
// before the kernel runs; returns a zero-filled tensor of exactly that dtype
// and dims: owned, or a view into memory the caller manages (an arena slot, a
// user buffer). The default placer allocates an owned tensor.
using OutputPlacer = std::function<Result<Tensor>(const Value& value, DType dtype, const Dims& dims)>;

// The default placer: a fresh zero-filled owned tensor.
Result<Tensor> AllocateOwnedOutput(const Value& value, DType dtype, const Dims& dims);

// Resolves an outer-scope value (by name) for a subgraph; nullptr if unknown.
using OuterLookup = std::function<const Tensor*(const std::string& name)>;

// Runs one node on concrete inputs (nullptr = absent optional input): shape
// inference, output placement, kernel, and the check that the kernel produced
// what inference promised. Outputs are returned in node order (undefined for
// absent outputs). `outer` resolves outer-scope reads of subgraphs (If/Loop/Scan).
Result<std::vector<Tensor>> EvaluateNode(const Node& node, const std::vector<const Tensor*>& inputs,
                                         const OutputPlacer& placer, const OuterLookup& outer);

// Error (kUnsupported, naming the node) unless every node, subgraphs included,
// has a schema and a CPU kernel.
Status CheckGraphKernels(const Graph& graph);

// Checks a tensor given for graph input `v` against its declared dtype and
// shape; `symbols` binds symbolic dims across inputs (e.g. every "batch" equal).
Status CheckInputTensor(const Value& v, const Tensor& t, std::map<std::string, int64_t>& symbols);

}  // namespace frt
