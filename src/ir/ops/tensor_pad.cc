// Schemas of the ops that grow (or crop) a tensor along its axes by values
// given in an input: Pad (opset 18+ form: pads, constant_value and axes
// inputs; modes constant/reflect/edge/wrap) and Tile (repeats input).
#include <algorithm>

#include "ir/ops/tensor_schema_util.h"

namespace frt::tensor {
namespace {

Status InferPad(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 1, "pads", {DType::kInt64}));
  FRT_RETURN_IF_ERROR(RequireRank(ctx, 1, "pads", 1));
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 3, "axes", {DType::kInt32, DType::kInt64}));
  FRT_RETURN_IF_ERROR(RequireRank(ctx, 3, "axes", 1));
  DType dt = ctx.input_dtype(0);
  if (ctx.has_input(2)) {
    if (ctx.input_dtype(2) != dt) {
      return ctx.Error(StatusCode::kInvalidModel, "constant_value has dtype ",
                       DTypeName(ctx.input_dtype(2)), " but data has ", DTypeName(dt));
    }
    const Shape* cv = ctx.input_shape(2);
    if (cv && cv->rank() > 1) {
      return ctx.Error(StatusCode::kInvalidModel, "constant_value has shape ", cv->ToString(),
                       " but must be a scalar");
    }
  }
  std::string mode = ctx.attrs().GetString("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap") {
    return ctx.Error(StatusCode::kInvalidModel, "mode \"", mode,
                     "\" must be constant, reflect, edge or wrap");
  }
  const Shape* in = ctx.input_shape(0);
  if (!in) {
    ctx.SetOutputDType(0, dt);
    return Status::Ok();
  }
  int64_t rank = static_cast<int64_t>(in->rank());
  std::optional<std::vector<int64_t>> axes;
  if (ctx.has_input(3)) {
    axes = KnownInts(ctx, 3);
  } else {
    axes.emplace();
    for (int64_t i = 0; i < rank; ++i) axes->push_back(i);
  }
  if (!axes) {
    ctx.SetOutput(0, dt, UnknownShape(in->rank()));
    return Status::Ok();
  }
  std::vector<bool> seen(in->rank(), false);
  for (int64_t& a : *axes) {
    FRT_ASSIGN_OR_RETURN(a, InferAxis(ctx, a, rank, "axes entry"));
    if (seen[a]) return ctx.Error(StatusCode::kInvalidModel, "axes lists axis ", a, " twice");
    seen[a] = true;
  }
  size_t n = axes->size();
  std::vector<Dim> out = in->dims();
  auto pads = KnownInts(ctx, 1);
  if (!pads) {
    for (int64_t a : *axes) out[a] = Dim();
    ctx.SetOutput(0, dt, Shape(std::move(out)));
    return Status::Ok();
  }
  if (pads->size() != 2 * n) {
    return ctx.Error(StatusCode::kInvalidModel, "pads has ", pads->size(),
                     " entries but must have 2 * ", n, " (two per padded axis)");
  }
  for (size_t i = 0; i < n; ++i) {
    int64_t a = (*axes)[i];
    int64_t before = (*pads)[i], after = (*pads)[i + n];
    const Dim& d = (*in)[a];
    if (!d.is_static()) {
      if (before != 0 || after != 0) out[a] = Dim();
      continue;
    }
    int64_t size = 0;
    if (__builtin_add_overflow(d.value(), before, &size) ||
        __builtin_add_overflow(size, after, &size) || size < 0) {
      return ctx.Error(StatusCode::kInvalidModel, "pads ", before, " and ", after, " on axis ", a,
                       " of size ", d.value(), " give an invalid size");
    }
    if (mode != "constant" && d.value() == 0 && size > 0) {
      return ctx.Error(StatusCode::kInvalidModel, "mode ", mode, " cannot pad empty axis ", a);
    }
    out[a] = Dim(size);
  }
  ctx.SetOutput(0, dt, Shape(std::move(out)));
  return Status::Ok();
}

Status InferTile(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDTypeIn(ctx, 1, "repeats", {DType::kInt64}));
  FRT_RETURN_IF_ERROR(RequireRank(ctx, 1, "repeats", 1));
  DType dt = ctx.input_dtype(0);
  const Shape* in = ctx.input_shape(0);
  if (!in) {
    ctx.SetOutputDType(0, dt);
    return Status::Ok();
  }
  auto n = KnownLength(ctx, 1);
  if (n && *n != static_cast<int64_t>(in->rank())) {
    return ctx.Error(StatusCode::kInvalidModel, "repeats has ", *n,
                     " entries but the input has rank ", in->rank());
  }
  auto reps = KnownInts(ctx, 1);
  if (!reps) {
    ctx.SetOutput(0, dt, UnknownShape(in->rank()));
    return Status::Ok();
  }
  std::vector<Dim> out = in->dims();
  for (size_t i = 0; i < out.size(); ++i) {
    if ((*reps)[i] < 0) {
      return ctx.Error(StatusCode::kInvalidModel, "repeats[", i, "] = ", (*reps)[i],
                       " is negative");
    }
    if (out[i].is_static()) {
      FRT_ASSIGN_OR_RETURN(int64_t v, CheckedMul(ctx, out[i].value(), (*reps)[i]));
      out[i] = Dim(v);
    } else {
      out[i] = ScaleDim(out[i], (*reps)[i]);
    }
  }
  ctx.SetOutput(0, dt, Shape(std::move(out)));
  return Status::Ok();
}

}  // namespace

void RegisterTensorPadOps(OpRegistry& r) {
  constexpr auto kFollow = PrecisionPolicy::kFollow;
  r.Register({OpKind::kPad, FusionKind::kInjective, kFollow, 2, 4, 1, 1, InferPad});
  r.Register({OpKind::kTile, FusionKind::kInjective, kFollow, 2, 2, 1, 1, InferTile});
}

}  // namespace frt::tensor
