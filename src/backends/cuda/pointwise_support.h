// Build-time decisions of the pointwise CUDA kernels: which nodes (op,
// dtypes, attributes, ranks) the compiled elementwise kernels, Cast and the
// NVRTC FusedPointwise kernel can run. Pure functions over the IR node, so
// the CPU tests cover them; the .cu files register them as `supports`.
//
// Thread safety: pure functions.
#pragma once

#include <span>
#include <string>

#include "ir/graph.h"

namespace frt::cuda_pointwise {

// The op kinds served by the compiled elementwise kernel (pointwise*.cu).
std::span<const OpKind> ElementwiseOps();

// "" when the elementwise kernel runs `node`, else why not. Dtypes:
//   f32/f16/bf16: every unary op, Clip, binary arithmetic, Pow, comparisons, Where;
//   int32/int64: Relu Neg Abs Clip Add Sub Mul Div Max Min, comparisons, Where;
//   bool: Not And Or Xor, Equal, Where (condition, and values).
// Pow's exponent may be f32, int32, int64 or the base's dtype.
std::string SupportsElementwise(const Node& node);

// Cast between any two of f32 f16 bf16 f64 int32 int64 int8 uint8 bool.
std::string SupportsCast(const Node& node);

// FusedPointwise whose program decodes (ir/ops/fused_pointwise.h) with at
// most kMaxFusedInputs inputs.
std::string SupportsFusedPointwise(const Node& node);

// True when Gelu's `approximate` is "tanh" (SupportsElementwise rejects
// values other than "none" and "tanh").
bool GeluIsTanh(const Node& node);

}  // namespace frt::cuda_pointwise
