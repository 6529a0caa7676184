// Schemas of the nn op family (convolution, pooling, matrix products,
// quantization): the family's registration entry point and the inference
// helpers shared by its concept files (nn_conv.cc, nn_pool.cc, nn_matmul.cc,
// nn_einsum.cc, nn_quant.cc).
#include "ir/op_families.h"
#include "ir/ops/nn_schema_util.h"

namespace frt {
namespace nn {

bool IsComputeFloat(DType t) {
  return t == DType::kFloat16 || t == DType::kBFloat16 || t == DType::kFloat32 ||
         t == DType::kFloat64;
}

bool IsQuant8(DType t) { return t == DType::kInt8 || t == DType::kUInt8; }

Status RequireDType(const InferContext& ctx, size_t i, std::string_view name, bool (*ok)(DType),
                    std::string_view what) {
  if (!ctx.has_input(i) || ok(ctx.input_dtype(i))) return Status::Ok();
  return ctx.Error(StatusCode::kUnsupported, "input ", i, " (", name, ") has dtype ",
                   DTypeName(ctx.input_dtype(i)), " but ", what, " is required");
}

Status RequireSameDType(const InferContext& ctx, size_t i, std::string_view name, DType want,
                        std::string_view want_name) {
  if (!ctx.has_input(i) || ctx.input_dtype(i) == want) return Status::Ok();
  return ctx.Error(StatusCode::kInvalidModel, "input ", i, " (", name, ") has dtype ",
                   DTypeName(ctx.input_dtype(i)), " but must match ", want_name, " (",
                   DTypeName(want), ")");
}

Status CheckQuantParam(const InferContext& ctx, size_t i, std::string_view name,
                       int64_t per_channel) {
  if (!ctx.has_input(i) || ctx.input_shape(i) == nullptr) return Status::Ok();
  const Shape& s = *ctx.input_shape(i);
  bool one = true;
  for (const Dim& d : s.dims()) one = one && d.is_static() && d.value() == 1;
  if (one) return Status::Ok();  // scalar or a single element
  if (s.rank() == 1 && per_channel != 0) {
    if (per_channel < 0 || !s[0].is_static() || s[0].value() == per_channel) return Status::Ok();
  }
  if (per_channel == 0) {
    return ctx.Error(StatusCode::kInvalidModel, "input ", i, " (", name, ") has shape ",
                     s.ToString(), " but must be a scalar (per-tensor)");
  }
  return ctx.Error(StatusCode::kInvalidModel, "input ", i, " (", name, ") has shape ", s.ToString(),
                   " but must be a scalar or a 1-D tensor of ",
                   per_channel < 0 ? std::string("per-channel") : std::to_string(per_channel),
                   " elements");
}

}  // namespace nn

void RegisterNnOps(OpRegistry& r) {
  nn::RegisterNnConvOps(r);
  nn::RegisterNnPoolOps(r);
  nn::RegisterNnMatMulOps(r);
  nn::RegisterNnEinsumOps(r);
  nn::RegisterNnQuantOps(r);
}

}  // namespace frt
