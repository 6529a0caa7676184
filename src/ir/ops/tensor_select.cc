// Schemas of the ops whose output size depends on input values: NonZero,
// Compress and Unique. Inference leaves the data-dependent dims unknown and
// the CPU kernels allocate those outputs themselves.
#include "ir/ops/tensor_schema_util.h"

namespace frt::tensor {
namespace {

Status InferNonZero(InferContext& ctx) {
  const Shape* in = ctx.input_shape(0);
  ctx.SetOutput(0, DType::kInt64,
                Shape({in ? Dim(static_cast<int64_t>(in->rank())) : Dim(), Dim()}));
  return Status::Ok();
}

Status InferCompress(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 1, "condition", {DType::kBool}));
  FRT_RETURN_IF_ERROR(RequireRank(ctx, 1, "condition", 1));
  DType dt = ctx.input_dtype(0);
  if (!ctx.attrs().Has("axis")) {
    ctx.SetOutput(0, dt, UnknownShape(1));
    return Status::Ok();
  }
  const Shape* in = ctx.input_shape(0);
  if (!in) {
    ctx.SetOutputDType(0, dt);
    return Status::Ok();
  }
  FRT_ASSIGN_OR_RETURN(int64_t axis, InferAxis(ctx, ctx.attrs().GetInt("axis", 0),
                                               static_cast<int64_t>(in->rank())));
  std::vector<Dim> out = in->dims();
  out[axis] = Dim();
  ctx.SetOutput(0, dt, Shape(std::move(out)));
  return Status::Ok();
}

Status InferUnique(InferContext& ctx) {
  DType dt = ctx.input_dtype(0);
  const Shape* in = ctx.input_shape(0);
  if (!ctx.attrs().Has("axis")) {
    ctx.SetOutput(0, dt, UnknownShape(1));
    ctx.SetOutput(2, DType::kInt64, Shape({in ? DimProduct(in->dims(), 0, in->rank()) : Dim()}));
  } else if (in) {
    FRT_ASSIGN_OR_RETURN(int64_t axis, InferAxis(ctx, ctx.attrs().GetInt("axis", 0),
                                                 static_cast<int64_t>(in->rank())));
    std::vector<Dim> out = in->dims();
    out[axis] = Dim();
    ctx.SetOutput(0, dt, Shape(std::move(out)));
    ctx.SetOutput(2, DType::kInt64, Shape({(*in)[axis]}));
  } else {
    ctx.SetOutputDType(0, dt);
    ctx.SetOutput(2, DType::kInt64, UnknownShape(1));
  }
  ctx.SetOutput(1, DType::kInt64, UnknownShape(1));
  ctx.SetOutput(3, DType::kInt64, UnknownShape(1));
  return Status::Ok();
}

}  // namespace

void RegisterTensorSelectOps(OpRegistry& r) {
  constexpr auto kFollow = PrecisionPolicy::kFollow;
  r.Register({OpKind::kNonZero, FusionKind::kOpaque, kFollow, 1, 1, 1, 1, InferNonZero});
  r.Register({OpKind::kCompress, FusionKind::kOpaque, kFollow, 2, 2, 1, 1, InferCompress});
  r.Register({OpKind::kUnique, FusionKind::kOpaque, kFollow, 1, 1, 1, 4, InferUnique});
}

}  // namespace frt::tensor
