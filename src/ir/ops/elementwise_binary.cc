// Schemas of the elementwise family's binary ops with numpy (multidirectional)
// broadcasting: arithmetic (Add, Sub, Mul, Div, Pow, Mod), bit shifts, logic
// (And, Or, Xor), comparisons, and PRelu, whose slope broadcasts one way onto
// the input. The opset < 7 `broadcast`/`axis` forms are rewritten by the
// importer, so every schema here is plain numpy broadcasting.
#include "ir/ops/elementwise_ops.h"

namespace frt::elementwise {
namespace {

// Both operands share one dtype from `Allowed`; output dtype is theirs, or bool.
template <uint32_t Allowed, bool kBoolOut>
Status InferBinary(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireTypes(ctx, 0, Allowed));
  return kBoolOut ? InferBroadcastBool(ctx) : InferBroadcast(ctx);
}

Status SetBroadcastOutput(InferContext& ctx, DType dtype) {
  FRT_ASSIGN_OR_RETURN(std::optional<Shape> shape, BroadcastInputs(ctx, 0, 1));
  if (shape) {
    ctx.SetOutput(0, dtype, *shape);
  } else {
    ctx.SetOutputDType(0, dtype);
  }
  return Status::Ok();
}

// Pow-15: the exponent's dtype may differ from the base's; the result has the base's.
Status InferPow(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireTypes(ctx, 0, kNumeric));
  FRT_RETURN_IF_ERROR(RequireTypes(ctx, 1, kNumeric));
  return SetBroadcastOutput(ctx, ctx.input_dtype(0));
}

Status InferMod(InferContext& ctx) {
  int64_t fmod = ctx.attrs().GetInt("fmod", 0);
  if (fmod != 0 && fmod != 1) {
    return ctx.Error(StatusCode::kInvalidModel, "fmod is ", fmod, " but must be 0 or 1");
  }
  if (fmod == 0 && IsFloat(ctx.input_dtype(0))) {
    return ctx.Error(StatusCode::kInvalidModel, "input dtype ", DTypeName(ctx.input_dtype(0)),
                     " is a float type, which requires fmod=1, but fmod is 0");
  }
  return InferBinary<kNumeric, false>(ctx);
}

Status InferBitShift(InferContext& ctx) {
  std::string dir = ctx.attrs().GetString("direction");
  if (dir != "LEFT" && dir != "RIGHT") {
    return ctx.Error(StatusCode::kInvalidModel, "direction is \"", dir,
                     "\" but must be \"LEFT\" or \"RIGHT\"");
  }
  return InferBinary<kUnsignedInts, false>(ctx);
}

// PRelu: slope broadcasts onto X (unidirectionally); the output has X's shape.
Status InferPRelu(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireTypes(ctx, 0, kNumeric));
  FRT_RETURN_IF_ERROR(CheckSameDTypes(ctx, 0, 1));
  const Shape* x = ctx.input_shape(0);
  const Shape* slope = ctx.input_shape(1);
  if (x && slope) {
    bool ok = slope->rank() <= x->rank();
    for (size_t d = 0; ok && d < slope->rank(); ++d) {
      const Dim& s = (*slope)[slope->rank() - 1 - d];
      const Dim& xd = (*x)[x->rank() - 1 - d];
      ok = !(s.is_static() && s.value() != 1 && xd.is_static() && xd.value() != s.value());
    }
    if (!ok) {
      return ctx.Error(StatusCode::kInvalidModel, "slope has shape ", slope->ToString(),
                       ", which does not broadcast to the input's shape ", x->ToString());
    }
  }
  return InferSameAsInput0(ctx);
}

void Binary(OpRegistry& r, OpKind k, InferFn infer, PrecisionPolicy p) {
  r.Register({k, FusionKind::kBroadcast, p, 2, 2, 1, 1, infer});
}

}  // namespace

void RegisterBinaryOps(OpRegistry& r) {
  constexpr auto kAlways = PrecisionPolicy::kAlways;
  constexpr auto kFollow = PrecisionPolicy::kFollow;
  for (OpKind k : {OpKind::kAdd, OpKind::kSub, OpKind::kMul, OpKind::kDiv}) {
    Binary(r, k, InferBinary<kNumeric, false>, kAlways);
  }
  Binary(r, OpKind::kPow, InferPow, PrecisionPolicy::kNever);  // overflows fp16 easily
  Binary(r, OpKind::kMod, InferMod, kAlways);
  Binary(r, OpKind::kBitShift, InferBitShift, kFollow);
  for (OpKind k : {OpKind::kAnd, OpKind::kOr, OpKind::kXor}) {
    Binary(r, k, InferBinary<kBoolType, false>, kFollow);
  }
  // Comparisons must see their inputs' own precision: rounding can make
  // different values equal.
  Binary(r, OpKind::kEqual, InferBinary<kNumeric | kBoolType, true>, kFollow);
  for (OpKind k :
       {OpKind::kGreater, OpKind::kLess, OpKind::kGreaterOrEqual, OpKind::kLessOrEqual}) {
    Binary(r, k, InferBinary<kNumeric, true>, kFollow);
  }
  Binary(r, OpKind::kPRelu, InferPRelu, kAlways);
}

}  // namespace frt::elementwise
