// Schemas of the elementwise family's ops over several broadcast operands:
// the variadic Min, Max, Sum, Mean (opset 8+ numpy broadcasting), Where
// (condition, X, Y) and Clip (X with optional scalar min and max inputs, the
// opset 11+ form; older attribute forms are rewritten by the importer).
#include "ir/ops/elementwise_ops.h"

namespace frt::elementwise {
namespace {

template <uint32_t Allowed>
Status InferVariadic(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireTypes(ctx, 0, Allowed));
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) {
      return ctx.Error(StatusCode::kInvalidModel, "input ", i,
                       " is empty but every input of this variadic op is required");
    }
  }
  return InferBroadcast(ctx);
}

Status InferWhere(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireTypes(ctx, 0, kBoolType));
  FRT_RETURN_IF_ERROR(CheckSameDTypes(ctx, 1, 2));
  FRT_ASSIGN_OR_RETURN(std::optional<Shape> shape, BroadcastInputs(ctx, 0, 2));
  if (shape) {
    ctx.SetOutput(0, ctx.input_dtype(1), *shape);
  } else {
    ctx.SetOutputDType(0, ctx.input_dtype(1));
  }
  return Status::Ok();
}

Status InferClip(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireTypes(ctx, 0, kNumeric));
  FRT_RETURN_IF_ERROR(CheckSameDTypes(ctx, 0, 2));
  for (size_t i = 1; i <= 2; ++i) {
    const Shape* s = ctx.has_input(i) ? ctx.input_shape(i) : nullptr;
    if (!s) continue;
    bool one = true;
    for (const Dim& d : s->dims()) one = one && !(d.is_static() && d.value() != 1);
    if (!one) {
      return ctx.Error(StatusCode::kInvalidModel, "input ", i, " (", i == 1 ? "min" : "max",
                       ") has shape ", s->ToString(), " but must be a scalar");
    }
  }
  return InferSameAsInput0(ctx);
}

}  // namespace

void RegisterNaryOps(OpRegistry& r) {
  constexpr auto kBroadcast = FusionKind::kBroadcast;
  for (OpKind k : {OpKind::kMin, OpKind::kMax}) {
    r.Register({k, kBroadcast, PrecisionPolicy::kAlways, 1, -1, 1, 1, InferVariadic<kNumeric>});
  }
  for (OpKind k : {OpKind::kSum, OpKind::kMean}) {
    r.Register({k, kBroadcast, PrecisionPolicy::kAlways, 1, -1, 1, 1, InferVariadic<kFloats>});
  }
  r.Register({OpKind::kWhere, kBroadcast, PrecisionPolicy::kFollow, 3, 3, 1, 1, InferWhere});
  r.Register({OpKind::kClip, kBroadcast, PrecisionPolicy::kAlways, 1, 3, 1, 1, InferClip});
}

}  // namespace frt::elementwise
