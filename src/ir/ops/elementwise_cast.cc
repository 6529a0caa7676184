// Schemas of the dtype conversions Cast and CastLike. In the IR, Cast's `to`
// attribute holds an frt::DType as int64 (the importer translates ONNX's
// TensorProto type code), so nothing past the importer sees ONNX codes.
// `saturate` (Cast-19) only affects conversions to fp8.
#include "ir/ops/elementwise_ops.h"

namespace frt::elementwise {
namespace {

Status CheckSaturate(const InferContext& ctx) {
  int64_t saturate = ctx.attrs().GetInt("saturate", 1);
  if (saturate != 0 && saturate != 1) {
    return ctx.Error(StatusCode::kInvalidModel, "saturate is ", saturate, " but must be 0 or 1");
  }
  return Status::Ok();
}

Status SetCastOutput(InferContext& ctx, DType to) {
  if (ctx.input_shape(0)) {
    ctx.SetOutput(0, to, *ctx.input_shape(0));
  } else {
    ctx.SetOutputDType(0, to);
  }
  return Status::Ok();
}

Status InferCast(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireTypes(ctx, 0, kAnyType));
  FRT_RETURN_IF_ERROR(CheckSaturate(ctx));
  if (!ctx.attrs().Has("to")) {
    return ctx.Error(StatusCode::kInvalidModel, "required attribute `to` is missing");
  }
  int64_t to = ctx.attrs().GetInt("to", 0);
  // DTypeSize is 0 for kUndefined and for codes no DType has.
  if (to <= 0 || to > 255 || DTypeSize(static_cast<DType>(to)) == 0) {
    return ctx.Error(StatusCode::kInvalidModel, "attribute `to` is ", to,
                     ", which is not a FusionRT dtype code (the importer stores frt::DType)");
  }
  return SetCastOutput(ctx, static_cast<DType>(to));
}

Status InferCastLike(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireTypes(ctx, 0, kAnyType));
  FRT_RETURN_IF_ERROR(RequireTypes(ctx, 1, kAnyType));
  FRT_RETURN_IF_ERROR(CheckSaturate(ctx));
  return SetCastOutput(ctx, ctx.input_dtype(1));
}

}  // namespace

void RegisterCastOps(OpRegistry& r) {
  // Cast fixes its output precision by definition: passes must keep it.
  r.Register(
      {OpKind::kCast, FusionKind::kElementwise, PrecisionPolicy::kFollow, 1, 1, 1, 1, InferCast});
  // CastLike's second input contributes only its dtype, which the elementwise
  // fusion kinds (same-shaped or broadcast operands) do not describe.
  r.Register({OpKind::kCastLike, FusionKind::kOpaque, PrecisionPolicy::kFollow, 2, 2, 1, 1,
              InferCastLike});
}

}  // namespace frt::elementwise
