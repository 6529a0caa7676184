// Concrete shape propagation: the dims of every value of a graph for one set
// of concrete input dims, without running the graph. The builder uses it to
// size memory-plan slots at a profile's max shapes, and the runtime to know
// output shapes as soon as input shapes are set.
//
// Static inference (ir/shape_inference.h) works on symbolic shapes and loses
// track of shape VALUES flowing through Shape -> Gather -> Concat -> Reshape
// chains. Here every input has concrete dims, so shape arithmetic can be
// carried out for real: values that inference publishes (Shape, Size) or that
// small CPU evaluations produce are fed to the consumers' inference.
//
// Thread safety: a pure function of its arguments; the graph must not be
// modified while it runs. Results refer to the graph's Values by pointer and
// are valid while the graph lives; known value tensors may share buffers with
// the graph's constants (read them, do not write through them).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "ir/graph.h"

namespace frt {

struct ConcreteValue {
  DType dtype = DType::kUndefined;
  std::optional<Dims> dims;     // nullopt: not knowable before running (data dependent)
  std::optional<Tensor> value;  // known contents (constants, shape arithmetic)
};
using ConcreteValues = std::unordered_map<const Value*, ConcreteValue>;

// Walks the top-level graph in topological order with concrete input dims
// (every graph input without an initializer must be given; graph inputs with
// an initializer use it when not given). Per node: runs the op's InferFn on
// concrete shapes and known values; when every present input has a known
// value and every output's shape is static with at most `max_eval_elements`
// elements, evaluates the node on the CPU with EvaluateNode to obtain the
// output values (not for control-flow ops If/Loop/Scan, nor for random ops,
// whose values are not reproducible). A value published by inference
// (InferContext::output_value) is used as is.
//
// The result holds an entry for every graph input, every constant and every
// node output of the top-level graph. Values downstream of data-dependent ops
// (NonZero, Unique, ...) get nullopt dims and no value.
//
// Errors: a given name that is not a graph input (kNotFound); a missing input,
// a given input whose rank or static dims differ from the declared shape, or
// that binds one symbol to two sizes (kInvalidArgument, naming the input, the
// expected shape and the given dims); inference or evaluation errors at these
// dims, prefixed with the node's description.
Result<ConcreteValues> PropagateConcreteShapes(const Graph& graph,
                                               const std::map<std::string, Dims>& input_dims,
                                               int64_t max_eval_elements = 1 << 16);

}  // namespace frt
