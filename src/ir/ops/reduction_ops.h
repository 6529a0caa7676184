// Shared by the reduction family's schemas (src/ir/ops/reduction*.cc) and its
// CPU kernels (src/backends/cpu/reduction*.cc): the registration parts of the
// family and the rules that decide which axes a node reduces. Inference and
// kernels call the same functions so that they cannot disagree.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "ir/op_registry.h"

namespace frt {

// Registration parts, called by RegisterReductionOps (reduction.cc).
void RegisterReductionReduceOps(OpRegistry& r);   // reduction.cc: Reduce*, ArgMax, ArgMin
void RegisterReductionScanOps(OpRegistry& r);     // reduction_scan.cc: CumSum, TopK
void RegisterReductionNormOps(OpRegistry& r);     // reduction_norm.cc: normalizations, LRN
void RegisterReductionSoftmaxOps(OpRegistry& r);  // reduction_softmax.cc: softmaxes, losses

namespace reduction {

// Float types the normalizing ops accept (fp8 has no arithmetic in ONNX).
bool IsComputeFloatDType(DType t);
// Float types above plus every integer type.
bool IsNumericDType(DType t);

// The axes a Reduce* node (opset 18 semantics) reduces, as a mask over the
// input's dims. `axes` is the value of the optional axes input (nullptr when
// absent). Absent or empty axes mean every axis, or none when
// noop_with_empty_axes is set: the op then maps each element on its own, as
// numpy does for axis=(). Errors: an axis outside [-rank, rank-1], or twice.
Result<std::vector<bool>> ResolveReduceAxes(const std::vector<int64_t>* axes, bool noop,
                                            int64_t rank);

// The dtype named by LayerNormalization's stash_type (an ONNX TensorProto
// data type code); nullopt for codes that are not a supported float type.
std::optional<DType> StashDType(int64_t code);

// Checks that input i has one of the allowed dtypes; `what` names them.
Status RequireDType(const InferContext& ctx, size_t i, bool (*ok)(DType), std::string_view what);
// Checks that input i (when present) has the dtype of input `ref`.
Status RequireSameDType(const InferContext& ctx, size_t i, size_t ref);
// Checks that input i, when its shape is known, has rank `rank`.
Status RequireRank(const InferContext& ctx, size_t i, size_t rank);

}  // namespace reduction
}  // namespace frt
