// Schemas of the ops whose output shape comes from input values rather than
// input shapes: Expand (shape input), ConstantOfShape (shape input), Range
// (start/limit/delta) and EyeLike (shape of its input, dtype attribute).
// With constant values the output shape is exact; otherwise only its rank
// (from the shape input's length) or nothing is known.
#include <cmath>

#include "ir/ops/tensor_schema_util.h"

namespace frt::tensor {
namespace {

// Reads a shape-valued input and checks it holds no negative dims.
Result<std::optional<std::vector<int64_t>>> KnownShapeValue(const InferContext& ctx, size_t i) {
  auto vals = KnownInts(ctx, i);
  if (!vals) return std::optional<std::vector<int64_t>>();
  for (size_t k = 0; k < vals->size(); ++k) {
    if ((*vals)[k] < 0) {
      return ctx.Error(StatusCode::kInvalidModel, "input ", i, " (shape) has ", (*vals)[k],
                       " at position ", k, "; dimensions must be >= 0");
    }
  }
  return vals;
}

Status InferExpand(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 1, "shape", {DType::kInt64}));
  FRT_RETURN_IF_ERROR(RequireRank(ctx, 1, "shape", 1));
  DType dt = ctx.input_dtype(0);
  const Shape* in = ctx.input_shape(0);
  FRT_ASSIGN_OR_RETURN(auto vals, KnownShapeValue(ctx, 1));
  if (!in) {
    ctx.SetOutputDType(0, dt);
    return Status::Ok();
  }
  if (!vals) {
    if (auto sym = SymbolicShapeValue(ctx, 1)) {
      auto out = BroadcastShapes(*in, Shape(*sym));
      if (out.ok()) {
        ctx.SetOutput(0, dt, *out);
        return Status::Ok();
      }
    }
    if (auto n = KnownLength(ctx, 1)) {
      ctx.SetOutput(0, dt, UnknownShape(std::max(in->rank(), static_cast<size_t>(*n))));
    } else {
      ctx.SetOutputDType(0, dt);
    }
    return Status::Ok();
  }
  auto out = BroadcastShapes(*in, Shape::FromDims(*vals));
  if (!out.ok()) {
    return ctx.Error(StatusCode::kInvalidModel, "cannot expand input ", in->ToString(),
                     " to shape ", DimsToString(*vals), ": ", out.status().message());
  }
  ctx.SetOutput(0, dt, *out);
  return Status::Ok();
}

Status InferConstantOfShape(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 0, "input", {DType::kInt64}));
  FRT_RETURN_IF_ERROR(RequireRank(ctx, 0, "input", 1));
  DType dt = DType::kFloat32;
  if (const Tensor* value = ctx.attrs().GetTensor("value")) {
    if (value->num_elements() != 1) {
      return ctx.Error(StatusCode::kInvalidModel, "attribute value has ", value->num_elements(),
                       " elements but must have exactly one");
    }
    dt = value->dtype();
  }
  FRT_ASSIGN_OR_RETURN(auto vals, KnownShapeValue(ctx, 0));
  if (vals) {
    ctx.SetOutput(0, dt, Shape::FromDims(*vals));
  } else if (auto sym = SymbolicShapeValue(ctx, 0)) {
    ctx.SetOutput(0, dt, Shape(*sym));
  } else if (auto n = KnownLength(ctx, 0)) {
    ctx.SetOutput(0, dt, UnknownShape(static_cast<size_t>(*n)));
  } else {
    ctx.SetOutputDType(0, dt);
  }
  return Status::Ok();
}

// ceil((limit - start) / delta) clamped at 0, exactly for integers.
Result<int64_t> RangeLength(const InferContext& ctx, const Tensor& start, const Tensor& limit,
                            const Tensor& delta) {
  if (IsInteger(start.dtype())) {
    auto s = start.ToInt64Vector(), l = limit.ToInt64Vector(), d = delta.ToInt64Vector();
    if (!s.ok() || !l.ok() || !d.ok()) return ctx.Error(StatusCode::kInternal, "bad range value");
    __int128 diff = static_cast<__int128>((*l)[0]) - (*s)[0];
    __int128 step = (*d)[0];
    if (step == 0) return ctx.Error(StatusCode::kInvalidModel, "delta must not be 0");
    __int128 n = diff / step;  // rounds toward zero: ceil already when the quotient is < 0
    if (n * step != diff && (diff > 0) == (step > 0)) ++n;
    if (n < 0) n = 0;
    return static_cast<int64_t>(n);
  }
  double s = start.GetAsDouble(0), l = limit.GetAsDouble(0), d = delta.GetAsDouble(0);
  if (d == 0 || std::isnan(d)) {
    return ctx.Error(StatusCode::kInvalidModel, "delta must be a nonzero number, got ", d);
  }
  double n = std::ceil((l - s) / d);
  if (std::isnan(n)) {
    return ctx.Error(StatusCode::kInvalidModel, "range from ", s, " to ", l, " step ", d,
                     " has no defined length");
  }
  if (n <= 0) return int64_t{0};
  if (n > 4.0e18) {
    return ctx.Error(StatusCode::kOutOfRange, "range from ", s, " to ", l, " step ", d, " has ", n,
                     " elements, too many to allocate");
  }
  return static_cast<int64_t>(n);
}

// Range(0, n, 1) with n a symbolic dim has n elements.
Dim SymbolicRangeLength(const InferContext& ctx) {
  auto is_const = [&](size_t i, int64_t want) {
    const Tensor* t = ctx.input_value(i);
    if (!t || t->num_elements() != 1 || !IsInteger(t->dtype())) return false;
    auto v = t->ToInt64Vector();
    return v.ok() && (*v)[0] == want;
  };
  const SymbolicTensor* limit = ctx.input_symbolic(1);
  if (!is_const(0, 0) || !is_const(2, 1) || !limit || limit->elems.size() != 1) return Dim();
  const SymDim& n = limit->elems[0];
  if (n.constant) return *n.constant >= 0 ? Dim(*n.constant) : Dim(0);
  return n.symbol.empty() ? Dim() : Dim::Symbol(n.symbol);
}

Status InferRange(InferContext& ctx) {
  DType dt = ctx.input_dtype(0);
  FRT_RETURN_IF_ERROR(RequireDTypeIn(
      ctx, 0, "start",
      {DType::kFloat32, DType::kFloat64, DType::kInt16, DType::kInt32, DType::kInt64}));
  FRT_RETURN_IF_ERROR(CheckSameDTypes(ctx, 0, 2));
  static const char* const kNames[] = {"start", "limit", "delta"};
  for (size_t i = 0; i < 3; ++i) {
    const Shape* s = ctx.input_shape(i);
    if (s && s->rank() != 0 && !(s->rank() == 1 && !DimsConflict((*s)[0], Dim(1)))) {
      return ctx.Error(StatusCode::kInvalidModel, "input ", i, " (", kNames[i], ") has shape ",
                       s->ToString(), " but must be a scalar");
    }
  }
  const Tensor* s = ctx.input_value(0);
  const Tensor* l = ctx.input_value(1);
  const Tensor* d = ctx.input_value(2);
  if (s && l && d && s->num_elements() == 1 && l->num_elements() == 1 && d->num_elements() == 1) {
    FRT_ASSIGN_OR_RETURN(int64_t n, RangeLength(ctx, *s, *l, *d));
    ctx.SetOutput(0, dt, Shape({Dim(n)}));
  } else {
    ctx.SetOutput(0, dt, Shape({SymbolicRangeLength(ctx)}));
  }
  return Status::Ok();
}

Status InferEyeLike(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireRank(ctx, 0, "input", 2));
  DType dt = ctx.input_dtype(0);
  if (ctx.attrs().Has("dtype")) {
    int64_t code = ctx.attrs().GetInt("dtype", 0);
    if (code <= 0 || code > static_cast<int64_t>(DType::kFloat8E5M2)) {
      return ctx.Error(StatusCode::kInvalidModel, "dtype attribute ", code,
                       " is not a valid IR dtype");
    }
    dt = static_cast<DType>(code);
  }
  if (ctx.input_shape(0)) {
    ctx.SetOutput(0, dt, *ctx.input_shape(0));
  } else {
    ctx.SetOutput(0, dt, UnknownShape(2));
  }
  return Status::Ok();
}

}  // namespace

void RegisterTensorCreateOps(OpRegistry& r) {
  constexpr auto kFollow = PrecisionPolicy::kFollow;
  r.Register({OpKind::kExpand, FusionKind::kBroadcast, kFollow, 2, 2, 1, 1, InferExpand});
  r.Register(
      {OpKind::kConstantOfShape, FusionKind::kOpaque, kFollow, 1, 1, 1, 1, InferConstantOfShape});
  r.Register({OpKind::kRange, FusionKind::kOpaque, kFollow, 3, 3, 1, 1, InferRange});
  r.Register({OpKind::kEyeLike, FusionKind::kOpaque, kFollow, 1, 1, 1, 1, InferEyeLike});
}

}  // namespace frt::tensor
