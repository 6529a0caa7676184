// Internal to the tensor op family's schemas (src/ir/ops/tensor*.cc): the
// per-concept registration functions called by RegisterTensorOps and the
// inference helpers they share. Shape-tensor inputs (Reshape's shape, Slice's
// starts, ...) are read only when their values are known; otherwise the
// helpers fall back to unknown dims of a known rank, or to an unknown rank.
#pragma once

#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

#include "ir/infer_helpers.h"
#include "ir/op_registry.h"

namespace frt::tensor {

void RegisterTensorShapeOps(OpRegistry& r);   // tensor_shape.cc: Reshape, Shape, Squeeze, ...
void RegisterTensorCreateOps(OpRegistry& r);  // tensor_create.cc: Expand, Range, EyeLike, ...
void RegisterTensorLayoutOps(OpRegistry& r);  // tensor_layout.cc: Transpose, Concat, Split, ...
void RegisterTensorPadOps(OpRegistry& r);     // tensor_pad.cc: Pad, Tile
void RegisterTensorGatherOps(OpRegistry& r);  // tensor_gather.cc: Gather*, Scatter*, OneHot
void RegisterTensorSelectOps(OpRegistry& r);  // tensor_select.cc: NonZero, Compress, Unique

// Normalizes `axis` into [0, rank); the error names the node and `what`.
Result<int64_t> InferAxis(const InferContext& ctx, int64_t axis, int64_t rank,
                          std::string_view what = "axis");

// Requires input i (when present) to have one of `allowed` dtypes.
Status RequireDTypeIn(const InferContext& ctx, size_t i, std::string_view name,
                      std::initializer_list<DType> allowed);
// Requires input i (when present and of known rank) to have rank `rank`.
Status RequireRank(const InferContext& ctx, size_t i, std::string_view name, size_t rank);
// Requires input i (when present and of known shape) to be a scalar or a
// 1-element 1-D tensor.
Status RequireScalarLike(const InferContext& ctx, size_t i, std::string_view name);

// The number of elements of 1-D input i when its length is static.
std::optional<int64_t> KnownLength(const InferContext& ctx, size_t i);

// a * b with an error on int64 overflow (hostile shapes).
Result<int64_t> CheckedMul(const InferContext& ctx, int64_t a, int64_t b);

// Product of dims[begin, end): static when all are static; a zero when any
// is 0; the symbol when exactly one is symbolic and the rest are 1; else
// unknown.
Dim DimProduct(const std::vector<Dim>& dims, size_t begin, size_t end);

// d * factor for a static factor: 1 keeps symbols, 0 gives 0.
Dim ScaleDim(const Dim& d, int64_t factor);

// True when both dims are static and differ.
inline bool DimsConflict(const Dim& a, const Dim& b) {
  return a.is_static() && b.is_static() && a.value() != b.value();
}

// One axis of a Slice after the ONNX clamping rules: element i of the
// output reads input index start + i * step, for i in [0, length).
struct SliceRange {
  int64_t start = 0;
  int64_t step = 1;
  int64_t length = 0;
};
// Precondition: step != 0, dim >= 0.
SliceRange ClampSlice(int64_t start, int64_t end, int64_t step, int64_t dim);

// The more informative of two dims that must be equal (static over symbol
// over unknown).
Dim MergeDims(const Dim& a, const Dim& b);

}  // namespace frt::tensor
