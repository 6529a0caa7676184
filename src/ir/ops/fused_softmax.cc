// Schema of FusedSoftmax (docs/fused_ops.md): Y = Softmax(scale * X + mask)
// along `axis` (opset-13 semantics: one axis), mask optional and
// broadcastable to X. Produced by fuse_softmax from a Softmax whose input is a
// scaled and/or masked tensor, so the scale and mask never round trip through
// memory. Output: X's dtype and shape.
#include "ir/infer_helpers.h"
#include "ir/op_families.h"
#include "ir/op_registry.h"

namespace frt {
namespace {

Status InferFusedSoftmax(InferContext& ctx) {
  DType dt = ctx.input_dtype(0);
  if (dt != DType::kFloat32 && dt != DType::kFloat16 && dt != DType::kBFloat16 &&
      dt != DType::kFloat64) {
    return ctx.Error(StatusCode::kUnsupported, "input 0 (X) has dtype ", DTypeName(dt),
                     " but a float type is required");
  }
  if (ctx.has_input(1) && ctx.input_dtype(1) != dt) {
    return ctx.Error(StatusCode::kInvalidModel, "input 1 (mask) has dtype ",
                     DTypeName(ctx.input_dtype(1)), " but must match X (", DTypeName(dt), ")");
  }
  const Shape* x = ctx.input_shape(0);
  if (!x) {
    ctx.SetOutputDType(0, dt);
    return Status::Ok();
  }
  int64_t axis = ctx.attrs().GetInt("axis", -1);
  if (axis < -static_cast<int64_t>(x->rank()) || axis >= static_cast<int64_t>(x->rank())) {
    return ctx.Error(StatusCode::kOutOfRange, "axis ", axis, " out of range for rank-", x->rank(),
                     " input");
  }
  if (ctx.has_input(1) && ctx.input_shape(1)) {
    auto b = BroadcastShapes(*x, *ctx.input_shape(1));
    bool grows = b.ok() && b->rank() != x->rank();
    if (!b.ok() || grows) {
      return ctx.Error(StatusCode::kInvalidModel, "mask ", ctx.input_shape(1)->ToString(),
                       " does not broadcast to X ", x->ToString());
    }
  }
  ctx.SetOutput(0, dt, *x);
  return Status::Ok();
}

}  // namespace

void RegisterFusedSoftmaxOps(OpRegistry& r) {
  r.Register({OpKind::kFusedSoftmax, FusionKind::kOpaque, PrecisionPolicy::kFp32Inside, 1, 2, 1, 1,
              InferFusedSoftmax});
}

}  // namespace frt
