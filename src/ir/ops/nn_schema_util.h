// Internal to the nn op family's schemas (src/ir/ops/nn*.cc): the per-concept
// registration functions called by RegisterNnOps, and inference helpers they
// share (dtype checks, parameter-shape checks, dim comparison).
#pragma once

#include <optional>
#include <string_view>

#include "ir/infer_helpers.h"
#include "ir/op_registry.h"

namespace frt::nn {

void RegisterNnConvOps(OpRegistry& r);    // nn_conv.cc
void RegisterNnPoolOps(OpRegistry& r);    // nn_pool.cc
void RegisterNnMatMulOps(OpRegistry& r);  // nn_matmul.cc (MatMul, Gemm, integer forms, Det)
void RegisterNnEinsumOps(OpRegistry& r);  // nn_einsum.cc
void RegisterNnQuantOps(OpRegistry& r);   // nn_quant.cc

// f16, bf16, f32, f64: the float types of the ONNX float-only ops (no fp8).
bool IsComputeFloat(DType t);
// int8 or uint8: the 8-bit quantized types.
bool IsQuant8(DType t);

// Checks input i (when present) satisfies `ok`; the error names `what` was
// required ("a float type (f16, bf16, f32, f64)").
Status RequireDType(const InferContext& ctx, size_t i, std::string_view name, bool (*ok)(DType),
                    std::string_view what);
// Checks input i (when present) has exactly dtype `want`.
Status RequireSameDType(const InferContext& ctx, size_t i, std::string_view name, DType want,
                        std::string_view want_name);

// Checks a quantization parameter (input i): a scalar or a 1-element tensor,
// or, when `per_channel` is a known dim (>= 0), also a 1-D tensor of that
// many elements; -1 accepts any 1-D length (checked later at run time).
Status CheckQuantParam(const InferContext& ctx, size_t i, std::string_view name,
                       int64_t per_channel);

// numpy.matmul's output shape for inputs a and b; nullopt if a rank is
// unknown (nn_matmul.cc; also used by FusedMatMul in fused_epilogue.cc).
Result<std::optional<Shape>> MatMulShape(const InferContext& ctx, size_t a, size_t b);
// ONNX Conv's inference over inputs X, W, B and the window attributes
// (nn_conv.cc; also used by FusedConv in fused_epilogue.cc).
Status InferConv(InferContext& ctx);

// Both dims static and different.
inline bool DimsConflict(const Dim& a, const Dim& b) {
  return a.is_static() && b.is_static() && a.value() != b.value();
}

}  // namespace frt::nn
