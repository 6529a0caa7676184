// Building blocks shared by the op families' shape and type inference.
#pragma once

#include <optional>

#include "ir/op_registry.h"

namespace frt {

// Output 0 = input 0 (dtype and shape).
Status InferSameAsInput0(InferContext& ctx);
// Output 0 = numpy broadcast of all present inputs; dtype of input 0.
Status InferBroadcast(InferContext& ctx);
// Output 0 = broadcast of all inputs, dtype bool (comparisons).
Status InferBroadcastBool(InferContext& ctx);
// Requires every present input to share input 0's dtype.
Status CheckSameDTypes(InferContext& ctx, size_t first, size_t last);

// The values of integer input i if known (constant or run-time), else nullopt.
std::optional<std::vector<int64_t>> KnownInts(const InferContext& ctx, size_t i);
// The contents of shape-valued input i as dims when its value is not known
// but its symbolic contents are (ir/symbolic_values.h): non-negative
// constants as static dims, symbols as symbols, anything else unknown.
// nullopt when input i has no symbolic contents.
std::optional<std::vector<Dim>> SymbolicShapeValue(const InferContext& ctx, size_t i);
// Upper bound of a symbolic dim from the build's optimization profiles
// (InferContext::symbol_upper_bounds); nullopt when not bounded.
std::optional<int64_t> SymbolUpperBound(const InferContext& ctx, const Dim& d);
// Broadcast of the shapes of inputs [first, last]; nullopt if any rank unknown.
Result<std::optional<Shape>> BroadcastInputs(const InferContext& ctx, size_t first, size_t last);
// A shape of `rank` unknown dims.
Shape UnknownShape(size_t rank);

}  // namespace frt
