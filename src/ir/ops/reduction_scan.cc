// Schemas of the ops that scan or sort along one axis: CumSum (opset 14: the
// axis is an input) and TopK (opset 11: k is an int64 input, largest and
// sorted are attributes).
#include "ir/infer_helpers.h"
#include "ir/ops/reduction_ops.h"

namespace frt {
namespace {

using reduction::RequireDType;

bool IsIndexDType(DType t) { return t == DType::kInt32 || t == DType::kInt64; }

Status InferCumSum(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, reduction::IsNumericDType, "a numeric type"));
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 1, IsIndexDType, "i32 or i64 (axis)"));
  if (const Shape* as = ctx.input_shape(1)) {
    bool one = as->rank() == 0 ||
               (as->rank() == 1 && (!(*as)[0].is_static() || (*as)[0].value() == 1));
    if (!one) {
      return ctx.Error(StatusCode::kInvalidModel, "axis (input 1) has shape ", as->ToString(),
                       " but must be a scalar");
    }
  }
  auto axis = KnownInts(ctx, 1);
  const Shape* in = ctx.input_shape(0);
  if (axis && in) {
    if (axis->size() != 1) {
      return ctx.Error(StatusCode::kInvalidModel, "axis (input 1) has ", axis->size(),
                       " values but must hold one");
    }
    auto a = NormalizeAxis((*axis)[0], static_cast<int64_t>(in->rank()));
    if (!a.ok()) return ctx.Error(StatusCode::kOutOfRange, a.status().message());
  }
  return InferSameAsInput0(ctx);
}

Status InferTopK(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, reduction::IsNumericDType, "a numeric type"));
  if (ctx.input_dtype(1) != DType::kInt64) {
    return ctx.Error(StatusCode::kInvalidModel, "K (input 1) has dtype ",
                     DTypeName(ctx.input_dtype(1)), " but must be i64");
  }
  DType dt = ctx.input_dtype(0);
  if (const Shape* ks = ctx.input_shape(1)) {
    if (ks->rank() != 1 || ((*ks)[0].is_static() && (*ks)[0].value() != 1)) {
      return ctx.Error(StatusCode::kInvalidModel, "K (input 1) has shape ", ks->ToString(),
                       " but must be a 1-D tensor of one element");
    }
  }
  const Shape* in = ctx.input_shape(0);
  if (in == nullptr) {
    ctx.SetOutputDType(0, dt);
    ctx.SetOutputDType(1, DType::kInt64);
    return Status::Ok();
  }
  int64_t axis_attr = ctx.attrs().GetInt("axis", -1);
  auto axis = NormalizeAxis(axis_attr, static_cast<int64_t>(in->rank()));
  if (!axis.ok()) return ctx.Error(StatusCode::kOutOfRange, axis.status().message());
  Shape out = *in;
  Dim& len = out[static_cast<size_t>(*axis)];
  auto k = KnownInts(ctx, 1);
  if (k && k->size() == 1) {
    int64_t kv = (*k)[0];
    if (kv < 0 || (len.is_static() && kv > len.value())) {
      return ctx.Error(StatusCode::kOutOfRange, "K is ", kv, " but axis ", axis_attr,
                       " of input shape ", in->ToString(), " allows 0 to ",
                       len.is_static() ? std::to_string(len.value()) : std::string("its size"));
    }
    len = Dim(kv);
  } else {
    len = Dim::Unknown();
  }
  ctx.SetOutput(0, dt, out);
  ctx.SetOutput(1, DType::kInt64, out);
  return Status::Ok();
}

}  // namespace

void RegisterReductionScanOps(OpRegistry& r) {
  r.Register({OpKind::kCumSum, FusionKind::kOpaque, PrecisionPolicy::kNever, 2, 2, 1, 1,
              InferCumSum});
  r.Register({OpKind::kTopK, FusionKind::kOpaque, PrecisionPolicy::kFollow, 2, 2, 2, 2,
              InferTopK});
}

}  // namespace frt
